import Tensors

// Reductions. The pullback of a reduction spreads the (kept-dimension) output gradient back over
// the reduced axes: evenly for sums and means, to the winning element for max.

extension Variable {
    /// The input shape with every axis in `axes` set to 1, and the normalised, sorted axes.
    private func reducedShape(_ axes: [Int]) -> (kept: [Int], axes: [Int]) {
        let normalised = Array(Set(axes.map { value.axis($0) })).sorted()
        var kept = shape
        for a in normalised { kept[a] = 1 }
        return (kept, normalised)
    }

    /// The sum over `axes` (negative axes count from the end; repeats are ignored).
    ///
    /// Shape: the input's with those axes removed, or set to 1 when `keepingDimensions`.
    /// Pullback: `g` broadcast back over the reduced axes.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let (kept, axes) = reducedShape(axes)
        let inShape = shape
        let out = value.sum(alongAxes: axes, keepingDimensions: keepingDimensions)
        return Variable.record(out, inputs: [self]) { g in [g.reshaped(kept).broadcast(to: inShape)] }
    }

    /// The sum of every element, as a rank-0 variable (accumulated in Double).
    /// Pullback: `g` copied to every element.
    public func sum() -> Variable {
        let inShape = shape
        return Variable.record(Tensor(value.sum()), inputs: [self]) { g in
            [Tensor(repeating: g.scalar, shape: inShape)]
        }
    }

    /// The mean over `axes`; shapes as for ``sum(alongAxes:keepingDimensions:)``.
    /// Pullback: `g / n` broadcast back, where n is the number of elements averaged.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let (kept, axes) = reducedShape(axes)
        let inShape = shape
        let n = axes.reduce(1) { $0 * inShape[$1] }
        let out = value.mean(alongAxes: axes, keepingDimensions: keepingDimensions)
        return Variable.record(out, inputs: [self]) { g in
            [(g * (1 / Float(Swift.max(n, 1)))).reshaped(kept).broadcast(to: inShape)]
        }
    }

    /// The mean of every element, as a rank-0 variable (NaN for an empty tensor).
    /// Pullback: `g / count` copied to every element.
    public func mean() -> Variable {
        let inShape = shape, n = value.count
        return Variable.record(Tensor(value.mean()), inputs: [self]) { g in
            [Tensor(repeating: g.scalar / Float(Swift.max(n, 1)), shape: inShape)]
        }
    }

    /// The maximum over `axes`; shapes as for ``sum(alongAxes:keepingDimensions:)``.
    ///
    /// Pullback: each output's gradient goes entirely to the element that attained the maximum;
    /// on ties, to the first one in row-major order over the reduced axes (matching
    /// `Tensor.argmax`). Every other element gets 0.
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let (_, axes) = reducedShape(axes)
        let inShape = shape
        let out = value.max(alongAxes: axes, keepingDimensions: keepingDimensions)
        guard requiresGradient else { return Variable(value: out, tape: tape, index: -1) }
        let winners = Variable.argmaxOffsets(value, reducing: axes)
        return Variable.record(out, inputs: [self]) { g in
            var d = Tensor(zeros: inShape)
            d.withUnsafeMutableBufferPointer { dp in
                g.withUnsafeBufferPointer { gp in
                    for (k, offset) in winners.enumerated() { dp[offset] += gp[k] }
                }
            }
            return [d]
        }
    }

    /// For each output position of a max over `axes` (in row-major order of the kept axes), the
    /// flat offset into `x` of the first maximal element.
    private static func argmaxOffsets(_ x: Tensor, reducing axes: [Int]) -> [Int] {
        let keptAxes = (0..<x.rank).filter { !axes.contains($0) }
        let strides = x.strides
        // Offsets contributed by each multi-index over a set of axes, in row-major order.
        func offsets(_ over: [Int]) -> [Int] {
            var result = [0]
            for a in over {
                var next: [Int] = []
                next.reserveCapacity(result.count * x.shape[a])
                for base in result { for i in 0..<x.shape[a] { next.append(base + i * strides[a]) } }
                result = next
            }
            return result
        }
        let outerOffsets = offsets(keptAxes), innerOffsets = offsets(axes)
        if innerOffsets.isEmpty { return [] }   // an empty reduced axis: nothing receives gradient
        return x.withUnsafeBufferPointer { p in
            outerOffsets.map { base in
                var best = base + innerOffsets[0], bestValue = p[best]
                for r in innerOffsets.dropFirst() where p[base + r] > bestValue {
                    best = base + r
                    bestValue = p[best]
                }
                return best
            }
        }
    }

    /// The population variance (divide by n) over `axes`; shapes as for
    /// ``sum(alongAxes:keepingDimensions:)``.
    ///
    /// Pullback: `2 (x − μ) · g / n` (the mean's own dependence on x cancels because the centred
    /// values sum to zero).
    public func variance(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Variable {
        let (kept, axes) = reducedShape(axes)
        let n = axes.reduce(1) { $0 * shape[$1] }
        let centred = value - value.mean(alongAxes: axes, keepingDimensions: true)
        let out = centred.squared().mean(alongAxes: axes, keepingDimensions: keepingDimensions)
        return Variable.record(out, inputs: [self]) { g in
            [(centred * g.reshaped(kept)) * (2 / Float(Swift.max(n, 1)))]
        }
    }
}
