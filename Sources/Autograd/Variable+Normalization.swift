import Tensors

extension Variable {
    /// Layer normalisation without an affine transform: each row over the last `trailingAxes` axes
    /// becomes `x̂ = (x − μ) / √(σ² + ε)` (population variance). Shape is unchanged; apply a learned
    /// scale and shift afterwards with `*` and `+` if wanted.
    ///
    /// Pullback (`_vjpLayerNorm`), closed form per row of n elements with `r = 1/√(σ² + ε)`:
    /// `dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂))`.
    /// - Parameters:
    ///   - trailingAxes: how many trailing axes form one normalised group, `1...rank`.
    ///   - epsilon: added to the variance; `1e-5` by default.
    public func layerNormalized(trailingAxes: Int = 1, epsilon: Float = 1e-5) -> Variable {
        let (y, inverseStd) = value.layerNormalizedWithStatistics(trailingAxes: trailingAxes, epsilon: epsilon)
        return Variable.record(y, inputs: [self]) { g in
            [Tensor.layerNormalizationPullback(normalized: y, inverseStandardDeviation: inverseStd,
                                               gradient: g, trailingAxes: trailingAxes)]
        }
    }
}
