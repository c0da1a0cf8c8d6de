import Foundation

extension Tensor {
    /// A copy with axes reordered: output axis `i` is input axis `permutation[i]`.
    /// - Complexity: O(count).
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.count == rank && Set(permutation) == Set(0..<rank),
                     "\(permutation) is not a permutation of the \(rank) axes")
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        if count == 0 { return out }
        let inStrides = strides
        let srcStrides = permutation.map { inStrides[$0] }
        let src = buffer.base, dst = out.buffer.base
        let r = rank
        let inner = outShape[r - 1], innerStride = srcStrides[r - 1]
        let outer = count / inner
        var idx = [Int](repeating: 0, count: r)
        var offset = 0, d = 0
        for _ in 0..<outer {
            if innerStride == 1 {
                (dst + d).update(from: src + offset, count: inner)
            } else {
                var s = offset
                for j in 0..<inner { dst[d + j] = src[s]; s += innerStride }
            }
            d += inner
            var axis = r - 2
            while axis >= 0 {
                idx[axis] += 1
                offset += srcStrides[axis]
                if idx[axis] < outShape[axis] { break }
                offset -= srcStrides[axis] * outShape[axis]
                idx[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// A copy with two axes swapped (the last two by default: the matrix transpose).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var p = Array(0..<rank)
        p.swapAt(axis(a), axis(b))
        return permuted(p)
    }

    /// The same elements with a new axis of length 1 inserted at `axis`.
    public func expandingShape(at axisIn: Int) -> Tensor {
        let a = axisIn < 0 ? axisIn + rank + 1 : axisIn
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// The same elements with length-1 axes removed (only `axes`, when given).
    public func squeezingShape(at axes: [Int]? = nil) -> Tensor {
        let drop = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map { axis($0) })
        precondition(drop.allSatisfy { shape[$0] == 1 }, "can only squeeze axes of length 1, shape is \(shape)")
        return reshaped(shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
    }

    /// A copy of the elements with index `range` along `axis`.
    public func slice(axis axisIn: Int, _ range: Range<Int>) -> Tensor {
        let a = axis(axisIn)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice \(range) out of bounds for axis \(a) of shape \(shape)")
        let (outer, length, inner) = extents(around: a)
        var outShape = shape
        outShape[a] = range.count
        let out = Tensor(uninitializedShape: outShape)
        let block = range.count * inner
        let src = buffer.base, dst = out.buffer.base
        for o in 0..<outer {
            (dst + o * block).update(from: src + (o * length + range.lowerBound) * inner, count: block)
        }
        return out
    }

    /// The sub-tensor at `index` of the first axis (rank drops by one).
    public subscript(index: Int) -> Tensor {
        slice(axis: 0, index..<(index + 1)).reshaped(Array(shape.dropFirst()))
    }

    /// Tensors joined along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axisIn: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let a = first.axis(axisIn)
        var outShape = first.shape
        outShape[a] = 0
        for t in tensors {
            precondition(t.rank == first.rank, "concatenate: rank mismatch \(t.shape) vs \(first.shape)")
            for i in 0..<t.rank where i != a {
                precondition(t.shape[i] == first.shape[i], "concatenate: shape mismatch \(t.shape) vs \(first.shape) off axis \(a)")
            }
            outShape[a] += t.shape[a]
        }
        let out = Tensor(uninitializedShape: outShape)
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let rowOut = outShape[a] * inner
        var column = 0
        let dst = out.buffer.base
        for t in tensors {
            let block = t.shape[a] * inner
            let src = t.buffer.base
            for o in 0..<outer { (dst + o * rowOut + column).update(from: src + o * block, count: block) }
            column += block
        }
        return out
    }

    /// Tensors stacked along a new axis.
    public static func stack(_ tensors: [Tensor], alongAxis a: Int = 0) -> Tensor {
        concatenate(tensors.map { $0.expandingShape(at: a) }, alongAxis: a)
    }

    /// The slices at `indices` along `axis` (an index-select; indices may repeat).
    public func gathering(_ indices: [Int], alongAxis axisIn: Int = 0) -> Tensor {
        let a = axis(axisIn)
        let (outer, length, inner) = extents(around: a)
        var outShape = shape
        outShape[a] = indices.count
        let out = Tensor(uninitializedShape: outShape)
        let src = buffer.base, dst = out.buffer.base
        for o in 0..<outer {
            for (k, index) in indices.enumerated() {
                precondition(index >= 0 && index < length, "gather index \(index) out of range 0..<\(length)")
                (dst + (o * indices.count + k) * inner).update(from: src + (o * length + index) * inner, count: inner)
            }
        }
        return out
    }

    /// The adjoint of ``gathering(_:alongAxis:)``: a zero tensor of `shape` with `self`'s slices
    /// added at `indices` along `axis` (repeated indices accumulate).
    public func scatterAdding(_ indices: [Int], alongAxis axisIn: Int, into targetShape: [Int]) -> Tensor {
        let a = axis(axisIn)
        let out = Tensor(zeros: targetShape)
        let length = targetShape[a]
        let outer = targetShape[..<a].reduce(1, *), inner = targetShape[(a + 1)...].reduce(1, *)
        let src = buffer.base, dst = out.buffer.base
        for o in 0..<outer {
            for (k, index) in indices.enumerated() {
                let d = dst + (o * length + index) * inner, s = src + (o * indices.count + k) * inner
                for i in 0..<inner { d[i] += s[i] }
            }
        }
        return out
    }

    /// A copy padded with `value`: `padding[i] = (before, after)` for axis `i` (missing trailing
    /// entries mean no padding).
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        precondition(padding.count <= rank, "padding for \(padding.count) axes, tensor has rank \(rank)")
        let pads = padding + Array(repeating: (before: 0, after: 0), count: rank - padding.count)
        precondition(pads.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padding must be non-negative")
        let outShape = zip(shape, pads).map { $0 + $1.before + $1.after }
        let out = Tensor(repeating: value, shape: outShape)
        if count == 0 { return out }
        let outStrides = Tensor.contiguousStrides(outShape)
        let r = rank
        let inner = shape[r - 1]
        let outer = count / inner
        var idx = [Int](repeating: 0, count: r)
        let src = buffer.base, dst = out.buffer.base
        var s = 0
        for _ in 0..<outer {
            var d = pads[r - 1].before
            for axis in 0..<(r - 1) { d += (idx[axis] + pads[axis].before) * outStrides[axis] }
            (dst + d).update(from: src + s, count: inner)
            s += inner
            var axis = r - 2
            while axis >= 0 {
                idx[axis] += 1
                if idx[axis] < shape[axis] { break }
                idx[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// The inverse of ``padded(_:value:)``: removes `padding` from each axis (a crop).
    public func cropped(_ padding: [(before: Int, after: Int)]) -> Tensor {
        var t = self
        for (a, p) in padding.enumerated() where p.before > 0 || p.after > 0 {
            t = t.slice(axis: a, p.before..<(t.shape[a] - p.after))
        }
        return t
    }

    /// One-hot rows: shape `[labels.count, classes]`.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var t = Tensor(zeros: [labels.count, classes])
        t.withUnsafeMutableBufferPointer { p in
            for (i, l) in labels.enumerated() {
                precondition(l >= 0 && l < classes, "label \(l) out of range 0..<\(classes)")
                p[i * classes + l] = 1
            }
        }
        return t
    }
}
