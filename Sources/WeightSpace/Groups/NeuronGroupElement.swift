import Foundation
import Tensors

/// The neuron-wise group of a feed-forward weight space, in its most general (monomial) form:
/// for every layer of neurons ℓ = 0…L a permutation σ_ℓ and a nonzero factor per neuron d_ℓ.
///
/// Action (Tran et al. 2024, *Monomial Matrix Group Equivariant NFNs*; with d = 1 the neuron
/// permutation action of Zhou et al. 2023, *Neural Functional Transformers*, §2):
/// W⁽ⁱ⁾ ← D_i P_i W⁽ⁱ⁾ P_{i−1}⁻¹ D_{i−1}⁻¹, v⁽ⁱ⁾ ← D_i P_i v⁽ⁱ⁾, i.e. entrywise
/// W′⁽ⁱ⁾_{jk} = d_i[j] · W⁽ⁱ⁾_{σ_i⁻¹(j), σ_{i−1}⁻¹(k)} / d_{i−1}[k] and
/// v′⁽ⁱ⁾_j = d_i[j] · v⁽ⁱ⁾_{σ_i⁻¹(j)}.
/// Filter taps (spatial axes) are never touched.
///
/// Which elements are true symmetries depends on the network: hidden permutations (HNP) always;
/// positive factors for ReLU (positively homogeneous); ±1 factors for odd activations (tanh, sin);
/// anything on the input or output layer (NP) never.
public struct NeuronGroupElement: Equatable, Sendable {
    /// σ_ℓ for ℓ = 0…L, each a permutation of 0..<n_ℓ (`permutations[ℓ][j]` = σ_ℓ(j)).
    public var permutations: [[Int]]
    /// d_ℓ for ℓ = 0…L (indexed by the *new* neuron position).
    public var factors: [[Float]]

    /// Checks that permutations are bijections and factors are finite and nonzero.
    public init(permutations: [[Int]], factors: [[Float]]? = nil) throws {
        guard factors == nil || factors!.count == permutations.count else {
            throw WeightSpaceError.invalidGroupElement("\(permutations.count) permutations but \(factors!.count) factor vectors")
        }
        for (l, p) in permutations.enumerated() {
            guard Set(p) == Set(0..<p.count), p.count > 0 else {
                throw WeightSpaceError.invalidGroupElement("σ_\(l) = \(p.prefix(8))… is not a permutation of 0..<\(p.count)")
            }
            if let f = factors?[l] {
                guard f.count == p.count, f.allSatisfy({ $0.isFinite && $0 != 0 }) else {
                    throw WeightSpaceError.invalidGroupElement("d_\(l) must have \(p.count) finite nonzero entries")
                }
            }
        }
        self.permutations = permutations
        self.factors = factors ?? permutations.map { [Float](repeating: 1, count: $0.count) }
    }

    /// The identity for neuron counts `widths`.
    public static func identity(widths: [Int]) -> NeuronGroupElement {
        try! NeuronGroupElement(permutations: widths.map { Array(0..<$0) })   // valid by construction
    }

    /// What part of the group to sample.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Hidden-neuron permutations (HNP): σ₀ = σ_L = id. The true permutation symmetry.
        case hiddenPermutation
        /// All-neuron permutations (NP): inputs and outputs permuted too. Not a symmetry of any
        /// network — the false assumption NP layers make.
        case allPermutation
        /// Hidden permutations × positive per-neuron scales (ReLU networks).
        case positiveScaling
        /// Hidden permutations × ±1 per-neuron signs (tanh and sine networks).
        case signFlip
    }

    /// A random element of the chosen part of the group.
    ///
    /// - Parameter scaleRange: for `.positiveScaling`, factors are drawn log-uniformly from
    ///   [low, high] (0 < low ≤ high); defaults to (0.5, 2). The robustness protocol uses
    ///   (1, 10) and (1, 100).
    public static func random(widths: [Int], kind: Kind, scaleRange: (Float, Float) = (0.5, 2),
                              rng: inout SeededGenerator) -> NeuronGroupElement {
        let last = widths.count - 1
        var perms: [[Int]] = [], factors: [[Float]] = []
        for (l, n) in widths.enumerated() {
            let hidden = l > 0 && l < last
            perms.append(hidden || kind == .allPermutation ? rng.permutation(n) : Array(0..<n))
            var f = [Float](repeating: 1, count: n)
            if hidden {
                switch kind {
                case .positiveScaling:
                    let lo = Foundation.log(Double(scaleRange.0)), hi = Foundation.log(Double(scaleRange.1))
                    for j in 0..<n { f[j] = Float(Foundation.exp(lo + (hi - lo) * Double(rng.nextUnitFloat()))) }
                case .signFlip:
                    for j in 0..<n { f[j] = rng.next() & 1 == 0 ? 1 : -1 }
                default: break
                }
            }
            factors.append(f)
        }
        return try! NeuronGroupElement(permutations: perms, factors: factors)   // valid by construction
    }

    /// Neuron counts n₀ … n_L this element acts on.
    public var widths: [Int] { permutations.map(\.count) }

    /// σ_ℓ⁻¹ for every layer.
    public var inversePermutations: [[Int]] {
        permutations.map { p in
            var inv = [Int](repeating: 0, count: p.count)
            for (j, pj) in p.enumerated() { inv[pj] = j }
            return inv
        }
    }

    /// The inverse element g⁻¹ (so that g⁻¹·(g·U) = U).
    public var inverse: NeuronGroupElement {
        // g: new[j] = d[j]·old[σ⁻¹(j)]. Inverse: old[k] = new[σ(k)] / d[σ(k)].
        let inv = inversePermutations
        let f = zip(permutations, factors).map { p, d in p.map { 1 / d[$0] } }
        return try! NeuronGroupElement(permutations: inv, factors: f)   // valid by construction
    }

    /// The composition self ∘ other (apply `other` first).
    public func composed(after other: NeuronGroupElement) -> NeuronGroupElement {
        // (g∘h)·U: new[j] = d_g[j]·(h·U)[σ_g⁻¹(j)] = d_g[j]·d_h[σ_g⁻¹(j)]·U[σ_h⁻¹(σ_g⁻¹(j))].
        var perms: [[Int]] = [], factors: [[Float]] = []
        let gInv = inversePermutations
        for l in 0..<permutations.count {
            let n = permutations[l].count
            perms.append((0..<n).map { k in permutations[l][other.permutations[l][k]] })
            factors.append((0..<n).map { j in self.factors[l][j] * other.factors[l][gInv[l][j]] })
        }
        return try! NeuronGroupElement(permutations: perms, factors: factors)   // valid by construction
    }

    /// Applies the element to a batch of features (every member and channel alike).
    ///
    /// - Throws: ``WeightSpaceError/shapeMismatch(_:)`` when the features' widths differ.
    public func apply(to features: WeightSpaceFeatures) throws -> WeightSpaceFeatures {
        guard features.widths == widths else {
            throw WeightSpaceError.shapeMismatch("group element acts on widths \(widths), features have \(features.widths)")
        }
        let inv = inversePermutations
        var weights: [Tensor] = [], biases: [Tensor] = []
        for i in 0..<features.layerCount {
            let rows = i + 1, cols = i
            var w = features.weights[i].gathering(inv[rows], alongAxis: 2).gathering(inv[cols], alongAxis: 3)
            // Scale rows by d_rows[j] and columns by 1/d_cols[k].
            var rowScale = [Int](repeating: 1, count: w.rank); rowScale[2] = widths[rows]
            var colScale = [Int](repeating: 1, count: w.rank); colScale[3] = widths[cols]
            if factors[rows].contains(where: { $0 != 1 }) {
                w = w * Tensor(shape: rowScale, scalars: factors[rows])
            }
            if factors[cols].contains(where: { $0 != 1 }) {
                w = w * Tensor(shape: colScale, scalars: factors[cols].map { 1 / $0 })
            }
            var v = features.biases[i].gathering(inv[rows], alongAxis: 2)
            if factors[rows].contains(where: { $0 != 1 }) {
                v = v * Tensor(shape: [1, 1, widths[rows]], scalars: factors[rows])
            }
            weights.append(w)
            biases.append(v)
        }
        return WeightSpaceFeatures(unchecked: weights, biases: biases)
    }

    /// Applies the element to a model's parameters in place.
    public func apply<M: WeightSpaceConvertible>(to model: M) throws {
        try model.load(apply(to: WeightSpaceFeatures(model: model)))
    }
}
