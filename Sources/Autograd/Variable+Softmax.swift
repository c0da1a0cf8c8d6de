import Tensors

// Softmax and log-softmax as single fused operations with closed-form pullbacks (see
// `Tensor.softmaxPullback` / `Tensor.logSoftmaxPullback`), rather than compositions of exp, sum and
// division: one forward kernel, one backward kernel, and no intermediate tensors on the tape.

extension Variable {
    /// The softmax along `axis`: `y_k = exp(x_k) / Σ_j exp(x_j)`, computed max-subtracted (stable
    /// for large inputs). Shape is unchanged.
    ///
    /// Pullback (`_vjpSoftmax`): `dx = y ⊙ (g − Σ_k g_k y_k)` per lane along `axis`.
    public func softmax(alongAxis axis: Int = -1) -> Variable {
        let a = value.axis(axis)
        let y = value.softmax(alongAxis: a)
        return Variable.record(y, inputs: [self]) { g in
            [Tensor.softmaxPullback(output: y, gradient: g, alongAxis: a)]
        }
    }

    /// The log-softmax along `axis`: `y_k = x_k − log Σ_j exp(x_j)`, computed max-subtracted.
    /// Shape is unchanged.
    ///
    /// Pullback (`_vjpLogSoftmax`): `dx = g − softmax(x) · Σ_k g_k` per lane, with the softmax
    /// recovered as `exp(y)`.
    public func logSoftmax(alongAxis axis: Int = -1) -> Variable {
        let a = value.axis(axis)
        let y = value.logSoftmax(alongAxis: a)
        return Variable.record(y, inputs: [self]) { g in
            [Tensor.logSoftmaxPullback(output: y, gradient: g, alongAxis: a)]
        }
    }
}
