import Tensors
import Autograd

/// The base of every optimizer: per-parameter state keyed by parameter path, and two override
/// points — ``makeState(for:)`` (create a parameter's state) and
/// ``update(_:gradient:state:step:)`` (update one parameter).
///
/// ```swift
/// let optimizer = Adam(learningRate: 1e-3)
/// let (loss, grads) = model.lossAndGradients { … }
/// optimizer.step(model, gradients: grads)
/// ```
open class Optimizer {
    /// The step size used by the next ``step(_:gradients:)``; schedules overwrite it per step.
    public var learningRate: Float
    /// The number of completed steps.
    public private(set) var stepCount = 0
    private var states: [String: [Tensor]] = [:]

    /// Creates an optimizer with no state and ``stepCount`` 0.
    ///
    /// - Parameter learningRate: η, the initial step size (> 0).
    public init(learningRate: Float) { self.learningRate = learningRate }

    /// Override point 1: the initial state tensors for a parameter of this value (e.g. zeros for
    /// moments). The default has no state.
    open func makeState(for value: Tensor) -> [Tensor] { [] }

    /// Override point 2: updates `value` in place given its gradient and state.
    /// `step` is 1 for the first update (for bias correction).
    open func update(_ value: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        fatalError("\(type(of: self)) must override update(_:gradient:state:step:)")
    }

    /// Applies one update to every parameter of `module` that received a gradient.
    public func step(_ module: Module, gradients: Gradients) {
        stepCount += 1
        for (path, parameter) in module.namedParameters() where gradients.contains(parameter) {
            var state = states[path] ?? makeState(for: parameter.value)
            states[path] = nil                 // keep the state uniquely referenced: in-place updates
            update(&parameter.value, gradient: gradients[parameter], state: &state, step: stepCount)
            states[path] = state
        }
    }

    /// Applies one update from gradients keyed by parameter path.
    public func step(_ module: Module, gradients: [String: Tensor]) {
        stepCount += 1
        for (path, parameter) in module.namedParameters() {
            guard let g = gradients[path] else { continue }
            var state = states[path] ?? makeState(for: parameter.value)
            states[path] = nil
            update(&parameter.value, gradient: g, state: &state, step: stepCount)
            states[path] = state
        }
    }

    /// The optimizer state by "path/index", for checkpointing.
    public var stateTensors: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (path, tensors) in states { for (i, t) in tensors.enumerated() { out["\(path)/\(i)"] = t } }
        return out
    }

    /// Restores state saved with ``stateTensors`` and the step count.
    public func restore(stateTensors: [String: Tensor], stepCount: Int) {
        var grouped: [String: [(Int, Tensor)]] = [:]
        for (key, t) in stateTensors {
            guard let slash = key.lastIndex(of: "/"), let i = Int(key[key.index(after: slash)...]) else { continue }
            grouped[String(key[..<slash]), default: []].append((i, t))
        }
        states = grouped.mapValues { $0.sorted { $0.0 < $1.0 }.map(\.1) }
        self.stepCount = stepCount
    }
}

/// Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum and coupled L2
/// weight decay: g ← g + λw; v ← μv + g; w ← w − η·(Nesterov ? g + μv : v).
///
/// - `learningRate` η > 0 (typical 1e-3…1e-1); `momentum` μ ∈ [0, 1), default 0 (plain SGD);
///   `weightDecay` λ ≥ 0, default 0. Same semantics as PyTorch's `torch.optim.SGD`.
public final class SGD: Optimizer {
    /// μ ∈ [0, 1); 0 disables momentum (and its state buffer).
    public var momentum: Float
    /// Whether momentum uses the Nesterov look-ahead g + μv instead of v. Has no effect when μ = 0.
    public var nesterov: Bool
    /// λ ≥ 0, the coupled L2 coefficient added to the gradient as λw.
    public var weightDecay: Float

    /// Creates SGD; the momentum buffer (when μ > 0) starts at zero.
    ///
    /// - Parameters:
    ///   - learningRate: η > 0 (typical 1e-3…1e-1); no default.
    ///   - momentum: μ ∈ [0, 1); 0 by default (plain SGD).
    ///   - nesterov: Nesterov momentum; `false` by default.
    ///   - weightDecay: λ ≥ 0; 0 by default.
    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        super.init(learningRate: learningRate)
    }

    public override func makeState(for value: Tensor) -> [Tensor] {
        momentum > 0 ? [Tensor(zeros: value.shape)] : []
    }

    public override func update(_ value: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        let mu = momentum
        gradient.withUnsafeBufferPointer { g in
            value.withUnsafeMutableBufferPointer { w in
                if mu > 0 {
                    state[0].withUnsafeMutableBufferPointer { v in
                        update(w.baseAddress!, gradient: g.baseAddress!, velocity: v.baseAddress!, count: w.count)
                    }
                } else {
                    update(w.baseAddress!, gradient: g.baseAddress!, velocity: nil, count: w.count)
                }
            }
        }
    }

    /// ``update(_:gradient:state:step:)`` on raw buffers: the one implementation of the update, so a
    /// trainer that keeps parameters in its own storage (the zoo's member batches) steps exactly as
    /// this optimizer steps a module.
    ///
    /// - Parameters:
    ///   - w: the parameter's `count` values, updated in place.
    ///   - gradient: its gradient (`count` values).
    ///   - velocity: the momentum buffer (`count` values, zero before the first step); needed when
    ///     ``momentum`` > 0, ignored otherwise.
    public func update(_ w: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                       velocity v: UnsafeMutablePointer<Float>?, count: Int) {
        let lr = learningRate, mu = momentum, wd = weightDecay, nesterov = self.nesterov
        if mu > 0, let v {
            for i in 0..<count {
                let gi = g[i] + wd * w[i]
                v[i] = mu * v[i] + gi
                w[i] -= lr * (nesterov ? gi + mu * v[i] : v[i])
            }
        } else {
            precondition(mu <= 0, "SGD with momentum needs a velocity buffer")
            for i in 0..<count { w[i] -= lr * (g[i] + wd * w[i]) }
        }
    }
}

/// Adam (Kingma & Ba, 2015) with bias correction and optional coupled L2 weight decay
/// (g ← g + λw, as PyTorch's `Adam(weight_decay:)`):
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − η·m̂/(√v̂ + ε).
///
/// Defaults: η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 0.
open class Adam: Optimizer {
    /// β₁ ∈ [0, 1) and β₂ ∈ [0, 1), the decay rates of the first- and second-moment averages; ε > 0,
    /// added to √v̂ for stability; λ ≥ 0, the weight-decay coefficient (coupled for Adam, decoupled
    /// for ``AdamW``).
    public var beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// Whether weight decay is decoupled from the gradient (AdamW) rather than added to it.
    let decoupledWeightDecay: Bool

    /// Creates Adam with coupled weight decay; both moments start at zero.
    ///
    /// - Parameters:
    ///   - learningRate: η > 0; 1e-3 by default.
    ///   - beta1: β₁ ∈ [0, 1); 0.9 by default.
    ///   - beta2: β₂ ∈ [0, 1); 0.999 by default.
    ///   - epsilon: ε > 0; 1e-8 by default.
    ///   - weightDecay: λ ≥ 0, coupled (added to the gradient); 0 by default.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        decoupledWeightDecay = false
        super.init(learningRate: learningRate)
    }

    init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupled: Bool) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
        decoupledWeightDecay = decoupled
        super.init(learningRate: learningRate)
    }

    public override func makeState(for value: Tensor) -> [Tensor] {
        [Tensor(zeros: value.shape), Tensor(zeros: value.shape)]
    }

    public override func update(_ value: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        var m = state[0], v = state[1]
        state = []
        gradient.withUnsafeBufferPointer { g in
            value.withUnsafeMutableBufferPointer { w in
                m.withUnsafeMutableBufferPointer { mp in
                    v.withUnsafeMutableBufferPointer { vp in
                        update(w.baseAddress!, gradient: g.baseAddress!, firstMoment: mp.baseAddress!,
                               secondMoment: vp.baseAddress!, count: w.count, step: step)
                    }
                }
            }
        }
        state = [m, v]
    }

    /// ``update(_:gradient:state:step:)`` on raw buffers: the one implementation of the update, so a
    /// trainer that keeps parameters in its own storage (the zoo's member batches) steps exactly as
    /// this optimizer steps a module. Final: a subclass that changes the update overrides
    /// ``update(_:gradient:state:step:)`` instead, so such trainers must use this only for ``Adam``
    /// and ``AdamW`` themselves (and step any other subclass through its module).
    ///
    /// - Parameters:
    ///   - w: the parameter's `count` values, updated in place.
    ///   - gradient: its gradient (`count` values).
    ///   - firstMoment: m (`count` values, zero before the first step).
    ///   - secondMoment: v (`count` values, zero before the first step).
    ///   - step: 1 for the first update (for bias correction).
    public final func update(_ w: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                             firstMoment mp: UnsafeMutablePointer<Float>, secondMoment vp: UnsafeMutablePointer<Float>,
                             count: Int, step: Int) {
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
        let c1 = 1 - Float(pow(Double(b1), Double(step))), c2 = 1 - Float(pow(Double(b2), Double(step)))
        let decoupled = decoupledWeightDecay
        for i in 0..<count {
            var gi = g[i]
            if decoupled { w[i] -= lr * wd * w[i] } else { gi += wd * w[i] }
            mp[i] = b1 * mp[i] + (1 - b1) * gi
            vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
            w[i] -= lr * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + eps)
        }
    }
}

/// AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay w ← w − ηλw.
///
/// Defaults: η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 1e-2 (PyTorch's default).
public final class AdamW: Adam {
    /// Creates AdamW; both moments start at zero.
    ///
    /// - Parameters:
    ///   - learningRate: η > 0; 1e-3 by default.
    ///   - beta1: β₁ ∈ [0, 1); 0.9 by default.
    ///   - beta2: β₂ ∈ [0, 1); 0.999 by default.
    ///   - epsilon: ε > 0; 1e-8 by default.
    ///   - weightDecay: λ ≥ 0, decoupled: w ← w − ηλw before the Adam step; 1e-2 by default.
    public override init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 1e-2) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, decoupled: true)
    }
}

/// RMSProp (Hinton, 2012), PyTorch semantics: s ← αs + (1−α)g²; w ← w − η·g/(√s + ε), with
/// optional momentum and coupled L2 weight decay.
///
/// Defaults: η = 1e-2, α = 0.99, ε = 1e-8, momentum 0, λ = 0.
public final class RMSProp: Optimizer {
    /// α ∈ [0, 1), the decay of the squared-gradient average s; ε > 0, added to √s; momentum μ ∈ [0, 1)
    /// (0 disables it); λ ≥ 0, the coupled L2 coefficient.
    public var alpha: Float, epsilon: Float, momentum: Float, weightDecay: Float

    /// Creates RMSProp; the square average and momentum buffer start at zero.
    ///
    /// - Parameters:
    ///   - learningRate: η > 0; 1e-2 by default.
    ///   - alpha: α ∈ [0, 1); 0.99 by default.
    ///   - epsilon: ε > 0; 1e-8 by default.
    ///   - momentum: μ ∈ [0, 1); 0 by default. With μ > 0: b ← μb + g/(√s + ε); w ← w − ηb.
    ///   - weightDecay: λ ≥ 0, coupled (added to the gradient); 0 by default.
    public init(learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
                momentum: Float = 0, weightDecay: Float = 0) {
        self.alpha = alpha; self.epsilon = epsilon; self.momentum = momentum; self.weightDecay = weightDecay
        super.init(learningRate: learningRate)
    }

    public override func makeState(for value: Tensor) -> [Tensor] {
        [Tensor(zeros: value.shape), Tensor(zeros: value.shape)]
    }

    public override func update(_ value: inout Tensor, gradient: Tensor, state: inout [Tensor], step: Int) {
        var s = state[0], buf = state[1]
        state = []
        gradient.withUnsafeBufferPointer { g in
            value.withUnsafeMutableBufferPointer { w in
                s.withUnsafeMutableBufferPointer { sp in
                    buf.withUnsafeMutableBufferPointer { bp in
                        update(w.baseAddress!, gradient: g.baseAddress!, squareAverage: sp.baseAddress!,
                               momentumBuffer: bp.baseAddress!, count: w.count)
                    }
                }
            }
        }
        state = [s, buf]
    }

    /// ``update(_:gradient:state:step:)`` on raw buffers: the one implementation of the update, so a
    /// trainer that keeps parameters in its own storage (the zoo's member batches) steps exactly as
    /// this optimizer steps a module.
    ///
    /// - Parameters:
    ///   - w: the parameter's `count` values, updated in place.
    ///   - gradient: its gradient (`count` values).
    ///   - squareAverage: s (`count` values, zero before the first step).
    ///   - momentumBuffer: b (`count` values, zero before the first step; untouched when
    ///     ``momentum`` is 0).
    public func update(_ w: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
                       squareAverage sp: UnsafeMutablePointer<Float>, momentumBuffer bp: UnsafeMutablePointer<Float>,
                       count: Int) {
        let lr = learningRate, a = alpha, eps = epsilon, mu = momentum, wd = weightDecay
        for i in 0..<count {
            let gi = g[i] + wd * w[i]
            sp[i] = a * sp[i] + (1 - a) * gi * gi
            let u = gi / (sp[i].squareRoot() + eps)
            if mu > 0 { bp[i] = mu * bp[i] + u; w[i] -= lr * bp[i] } else { w[i] -= lr * u }
        }
    }
}

import Foundation
