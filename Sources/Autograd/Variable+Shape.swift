import Tensors

// Shape operations. Their pullbacks only move gradient elements around: the adjoint of a reshape
// is a reshape, of a permutation the inverse permutation, of a slice a zero-padding, of a
// concatenation a split, of a gather a scatter-add, of a padding a crop, of a broadcast a sum.

extension Variable {
    /// The same elements with another shape of equal element count; one dimension may be `-1`
    /// (inferred). Pullback: `g` reshaped back to the input shape.
    public func reshaped(_ newShape: [Int]) -> Variable {
        let inShape = shape
        return Variable.record(value.reshaped(newShape), inputs: [self]) { g in [g.reshaped(inShape)] }
    }

    /// Axes reordered: output axis `i` is input axis `permutation[i]`.
    /// Pullback: `g` permuted by the inverse permutation.
    public func permuted(_ permutation: [Int]) -> Variable {
        let out = value.permuted(permutation)
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Variable.record(out, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Two axes swapped (by default the last two: the matrix transpose of every batch element).
    /// Pullback: the same swap applied to `g`.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Variable {
        let (a, b) = (value.axis(a), value.axis(b))
        return Variable.record(value.transposed(a, b), inputs: [self]) { g in [g.transposed(a, b)] }
    }

    /// The elements with index in `range` along `axis`; that axis's length becomes `range.count`.
    /// Pullback: `g` zero-padded back to the input's extent along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let a = value.axis(axis)
        var padding = [(before: Int, after: Int)](repeating: (0, 0), count: rank)
        padding[a] = (range.lowerBound, shape[a] - range.upperBound)
        return Variable.record(value.slice(axis: a, range), inputs: [self]) { g in [g.padded(padding)] }
    }

    /// Variables joined along `axis` (all other dimensions must agree).
    /// Pullback: `g` split back into the pieces' extents along `axis`.
    public static func concatenate(_ variables: [Variable], alongAxis axis: Int = 0) -> Variable {
        precondition(!variables.isEmpty, "concatenate needs at least one variable")
        let a = variables[0].value.axis(axis)
        let lengths = variables.map { $0.shape[a] }
        let needs = variables.map(\.requiresGradient)
        let out = Tensor.concatenate(variables.map(\.value), alongAxis: a)
        return record(out, inputs: variables) { g in
            var start = 0
            return zip(lengths, needs).map { length, need in
                defer { start += length }
                return need ? g.slice(axis: a, start..<(start + length)) : nil
            }
        }
    }

    /// Variables of equal shape stacked along a new axis `axis` (`0...rank`; negative counts from
    /// the end of the result's axes). Pullback: the slices of `g` along that axis.
    public static func stack(_ variables: [Variable], alongAxis axis: Int = 0) -> Variable {
        precondition(!variables.isEmpty, "stack needs at least one variable")
        let itemShape = variables[0].shape
        let a = axis < 0 ? axis + itemShape.count + 1 : axis
        let needs = variables.map(\.requiresGradient)
        let out = Tensor.stack(variables.map(\.value), alongAxis: a)
        return record(out, inputs: variables) { g in
            needs.enumerated().map { i, need in
                need ? g.slice(axis: a, i..<(i + 1)).reshaped(itemShape) : nil
            }
        }
    }

    /// The slices at `indices` along `axis` (an index-select; indices may repeat).
    /// Pullback: `g` scatter-added into zeros of the input shape (`Tensor.scatterAdding`), so a
    /// repeated index accumulates the gradient of every copy.
    public func gathering(_ indices: [Int], alongAxis axis: Int = 0) -> Variable {
        let a = value.axis(axis)
        let inShape = shape
        return Variable.record(value.gathering(indices, alongAxis: a), inputs: [self]) { g in
            [g.scatterAdding(indices, alongAxis: a, into: inShape)]
        }
    }

    /// A copy padded with the constant `value`: `padding[i] = (before, after)` for axis `i`
    /// (missing trailing entries mean no padding). Pullback: `g` cropped back (`Tensor.cropped`).
    public func padded(_ padding: [(before: Int, after: Int)], value padValue: Float = 0) -> Variable {
        Variable.record(value.padded(padding, value: padValue), inputs: [self]) { g in [g.cropped(padding)] }
    }

    /// The value broadcast (materialised) to `shape` by NumPy rules.
    /// Pullback: `g` summed back over the broadcast axes.
    public func broadcast(to targetShape: [Int]) -> Variable {
        let inShape = shape
        return Variable.record(value.broadcast(to: targetShape), inputs: [self]) { g in [g.sumToShape(inShape)] }
    }

    /// The same elements with a new axis of length 1 at `axis` (`0...rank`; negative counts from
    /// the end of the result's axes). Pullback: `g` reshaped back.
    public func expandingShape(at axis: Int) -> Variable {
        let inShape = shape
        return Variable.record(value.expandingShape(at: axis), inputs: [self]) { g in [g.reshaped(inShape)] }
    }

    /// The same elements with length-1 axes removed (only those in `axes`, when given).
    /// Pullback: `g` reshaped back.
    public func squeezingShape(at axes: [Int]? = nil) -> Variable {
        let inShape = shape
        return Variable.record(value.squeezingShape(at: axes), inputs: [self]) { g in [g.reshaped(inShape)] }
    }
}
