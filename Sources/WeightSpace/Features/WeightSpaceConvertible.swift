import Tensors
import Autograd
import NeuralNetworks

/// A feed-forward model whose parameters form a ``FeedforwardArchitecture`` weight space.
///
/// Conforming models list their (weight, bias) parameters in layer order; weights are already in
/// the canonical `[out, in, spatial…]` layout (Dense and Conv2d store them that way).
public protocol WeightSpaceConvertible: Module, Layer {
    /// The architecture of this model's weight space.
    var weightSpaceArchitecture: FeedforwardArchitecture { get }
    /// (W⁽ⁱ⁾, v⁽ⁱ⁾) for i = 1…L.
    var weightSpaceParameters: [(weight: Parameter, bias: Parameter)] { get }
}

extension WeightSpaceFeatures {
    /// The weights of one model as features with batch size 1 and one channel.
    public init(model: some WeightSpaceConvertible) {
        let params = model.weightSpaceParameters
        self.init(unchecked: params.map { $0.weight.value.expandingShape(at: 0).expandingShape(at: 0) },
                  biases: params.map { $0.bias.value.expandingShape(at: 0).expandingShape(at: 0) })
    }

    /// The weights of several models of one architecture, batched.
    public init(models: [some WeightSpaceConvertible]) throws {
        self = try WeightSpaceFeatures.batched(models.map { WeightSpaceFeatures(model: $0) })
    }
}

extension WeightSpaceConvertible {
    /// Replaces this model's parameters with member `member`, channel `channel` of `features`.
    ///
    /// - Throws: ``WeightSpaceError`` when the layer count or any shape differs, or a value is
    ///   NaN/∞; on error the model is unchanged.
    public func load(_ features: WeightSpaceFeatures, member: Int = 0, channel: Int = 0) throws {
        let params = weightSpaceParameters
        guard features.layerCount == params.count else {
            throw WeightSpaceError.shapeMismatch("features have \(features.layerCount) layers, model has \(params.count)")
        }
        guard member >= 0, member < features.batchSize, channel >= 0, channel < features.channelCount else {
            throw WeightSpaceError.shapeMismatch("member \(member) / channel \(channel) out of range for batch \(features.batchSize), channels \(features.channelCount)")
        }
        func pick(_ t: Tensor) -> Tensor {
            t.slice(axis: 0, member..<(member + 1)).slice(axis: 1, channel..<(channel + 1))
                .reshaped(Array(t.shape.dropFirst(2)))
        }
        var values: [(Parameter, Tensor)] = []
        for (i, (w, v)) in zip(features.weights, features.biases).enumerated() {
            let (pw, pb) = params[i]
            let wv = pick(w), bv = pick(v)
            guard wv.shape == pw.value.shape, bv.shape == pb.value.shape else {
                throw WeightSpaceError.shapeMismatch("layer \(i + 1): features \(wv.shape)/\(bv.shape), model \(pw.value.shape)/\(pb.value.shape)")
            }
            if wv.hasNonFinite || bv.hasNonFinite {
                throw WeightSpaceError.nonFinite("layer \(i + 1) of member \(member)")
            }
            values.append((pw, wv))
            values.append((pb, bv))
        }
        for (p, v) in values { p.value = v }
    }
}

extension MLP: WeightSpaceConvertible {
    /// This MLP's weight space: ``FeedforwardArchitecture/mlp(widths:activation:)`` of its widths and
    /// activation.
    public var weightSpaceArchitecture: FeedforwardArchitecture {
        try! FeedforwardArchitecture.mlp(widths: widths, activation: activation)   // valid by construction
    }
    /// Each ``Dense`` layer's (weight `[n_{i+1}, n_i]`, bias `[n_{i+1}]`), in order.
    public var weightSpaceParameters: [(weight: Parameter, bias: Parameter)] {
        layers.map { ($0.weight, $0.bias!) }
    }
}

extension SIREN: WeightSpaceConvertible {
    /// This SIREN's weight space: ``FeedforwardArchitecture/siren(widths:)`` of
    /// `[inputs] + hiddenWidths + [outputs]`.
    /// Traps for a SIREN built without hidden layers.
    public var weightSpaceArchitecture: FeedforwardArchitecture {
        let widths = [hidden.first?.linear.inFeatures ?? output.inFeatures] + hidden.map { $0.linear.outFeatures } + [output.outFeatures]
        return try! FeedforwardArchitecture.siren(widths: widths)   // valid by construction
    }
    /// Each sine layer's (weight, bias), then the output layer's, in order.
    public var weightSpaceParameters: [(weight: Parameter, bias: Parameter)] {
        hidden.map { ($0.linear.weight, $0.linear.bias!) } + [(output.weight, output.bias!)]
    }
}

extension SmallCNN: WeightSpaceConvertible {
    /// This network's weight space:
    /// ``FeedforwardArchitecture/smallCNNZoo(activation:inputChannels:filters:classes:)`` of its
    /// configuration.
    public var weightSpaceArchitecture: FeedforwardArchitecture {
        FeedforwardArchitecture.smallCNNZoo(activation: configuration.activation,
                                            inputChannels: configuration.inputChannels,
                                            filters: configuration.filters, classes: configuration.classes)
    }
    /// (weight, bias) of `conv1`, `conv2`, `conv3` (weights `[F, C, 3, 3]`, `[F, F, 3, 3]`, `[F, F, 3, 3]`)
    /// and `classifier` (`[classes, F]`), in order.
    public var weightSpaceParameters: [(weight: Parameter, bias: Parameter)] {
        [(conv1.weight, conv1.bias!), (conv2.weight, conv2.bias!), (conv3.weight, conv3.bias!),
         (classifier.weight, classifier.bias!)]
    }
}
