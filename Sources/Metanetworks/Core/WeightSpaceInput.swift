import Tensors
import NeuralNetworks
import WeightSpace

/// The feed-forward weight space a model was built for: what ``WeightSpaceModel/validateInput(_:)``
/// checks a feature batch against before the model sees it.
///
/// Why: a model's parameters are sized for one architecture (its layer count, its channels, and
/// for most models the widths and kernels); features of another architecture reach a matrix
/// product of the wrong size deep inside the model, which traps the process. Checking the shapes
/// at the entry point turns that into an error that says what differs.
public struct WeightSpaceInputRequirement: Sendable, Equatable {
    /// Feature channels (1 for raw weights).
    public var channels: Int
    /// The number of layers, when only that is fixed.
    public var layerCount: Int?
    /// The exact widths and kernels, when the model's parameters depend on them.
    public var architecture: FeedforwardArchitecture?
    /// Filter taps per layer (kh·kw; 1 for dense layers), when only they are fixed.
    public var filterFactors: [Int]?
    /// n₀, when the input neurons are fixed but the whole architecture is not.
    public var inputWidth: Int?
    /// n_L, when the output neurons are fixed but the whole architecture is not.
    public var outputWidth: Int?

    /// A requirement; leave out what the model does not depend on.
    public init(channels: Int, layerCount: Int? = nil, architecture: FeedforwardArchitecture? = nil, filterFactors: [Int]? = nil,
                inputWidth: Int? = nil, outputWidth: Int? = nil) {
        self.channels = channels; self.layerCount = layerCount; self.architecture = architecture; self.filterFactors = filterFactors
        self.inputWidth = inputWidth; self.outputWidth = outputWidth
    }

    /// Throws ``ModuleError/invalidInput(_:)`` naming `model` and the first difference between
    /// the requirement and the layers' weight shapes `[B, C, out, in, spatial…]` and bias shapes
    /// `[B, C, out]`.
    public func check(weightShapes: [[Int]], biasShapes: [[Int]], model: String) throws {
        func bad(_ message: String) -> ModuleError { .invalidInput("\(model): \(message)") }
        guard !weightShapes.isEmpty, weightShapes.count == biasShapes.count else {
            throw bad("features need one bias per weight and at least one layer, got \(weightShapes.count) weights and \(biasShapes.count) biases")
        }
        let expectedLayers = architecture?.layerCount ?? filterFactors?.count ?? layerCount
        if let n = expectedLayers, n != weightShapes.count {
            throw bad("built for networks of \(n) layers, the features have \(weightShapes.count)")
        }
        for (i, (w, b)) in zip(weightShapes, biasShapes).enumerated() {
            guard w.count >= 4, b.count == 3 else {
                throw bad("layer \(i): weight must be [B, C, out, in, spatial…] and bias [B, C, out], got \(w) and \(b)")
            }
            if i == 0, let n = inputWidth, w[3] != n {
                throw bad("built for networks with \(n) input neurons, the features have \(w[3])")
            }
            if i == weightShapes.count - 1, let n = outputWidth, w[2] != n {
                throw bad("built for networks with \(n) output neurons, the features have \(w[2])")
            }
            guard w[1] == channels, b[1] == channels else {
                throw bad("built for \(channels) feature channels, layer \(i) has \(w[1])")
            }
            if let a = architecture {
                let (ew, eb) = (a.weightShape(layer: i), a.biasShape(layer: i))
                guard Array(w.dropFirst(2)) == ew, Array(b.dropFirst(2)) == eb else {
                    throw bad("built for weights \(ew) and biases \(eb) in layer \(i) (widths \(a.widths)), the features have \(Array(w.dropFirst(2))) and \(Array(b.dropFirst(2)))")
                }
            }
            if let f = filterFactors {
                let taps = w.dropFirst(4).reduce(1, *)
                guard taps == f[i] else {
                    throw bad("built for \(f[i]) filter taps in layer \(i), the features have \(taps) (kernel \(Array(w.dropFirst(4))))")
                }
            }
        }
    }
}

/// A model that knows the weight space it was built for (see ``WeightSpaceInputRequirement``).
public protocol WeightSpaceInputConstrained {
    /// What its input must look like.
    var inputRequirement: WeightSpaceInputRequirement { get }
}

extension WeightSpaceModel {
    /// Throws ``ModuleError/invalidInput(_:)`` when `features` do not have the weight space the
    /// model was built for (models that do not declare one accept any input here).
    public func validateInput(_ features: WeightSpaceFeatures) throws {
        guard let constrained = self as? WeightSpaceInputConstrained else { return }
        try constrained.inputRequirement.check(weightShapes: features.weights.map(\.shape), biasShapes: features.biases.map(\.shape),
                                               model: "\(type(of: self))")
    }

    /// ``predict(_:)`` after ``validateInput(_:)``: the entry point for features from files or
    /// other callers, where a mismatch is an error rather than a trap.
    public func checkedPredict(_ features: WeightSpaceFeatures) throws -> Tensor {
        try validateInput(features)
        return predict(features)
    }
}

extension NFNPredictor: WeightSpaceInputConstrained {
    /// The architecture it was built for, with its input channels.
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: inputChannels, architecture: architecture)
    }
}

extension MonomialPredictor: WeightSpaceInputConstrained {
    /// The architecture it was built for, with the configuration's input channels.
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: configuration.inputChannels, architecture: architecture)
    }
}

extension QuasiMonomialPredictor: WeightSpaceInputConstrained {
    /// That of the wrapped ``MonomialPredictor``.
    public var inputRequirement: WeightSpaceInputRequirement { baseRequirement }
}

extension NFTPredictor: WeightSpaceInputConstrained {
    /// The filter taps per layer and the input channels it was built for (NFT attends over
    /// neurons, so the widths may differ).
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: projection.inputChannels, filterFactors: filterFactors)
    }
}

extension STATNNPredictor: WeightSpaceInputConstrained {
    /// The layer count and channels (its statistics do not depend on widths).
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: inChannels, layerCount: layerCount)
    }
}

extension FlatMLPPredictor: WeightSpaceInputConstrained {
    /// The architecture it was built for (its first layer takes every scalar of it).
    public var inputRequirement: WeightSpaceInputRequirement {
        WeightSpaceInputRequirement(channels: inChannels, architecture: architecture)
    }
}
