/// An n-dimensional array of `Float` in row-major (C) order, with value semantics.
///
/// `Tensor` is the array core of SwiftNFN. Copies are cheap: storage is shared until one copy is
/// mutated (copy-on-write). Shape errors inside tensor arithmetic are programming errors and trap
/// like `Array` index errors do; everything a *user* hands in (files, model inputs, weight sets) is
/// validated at the boundary of the API that receives it and reported with a thrown error.
///
/// ```swift
/// var rng = SeededGenerator(seed: 7)
/// let x = Tensor.normal([4, 3], rng: &rng)
/// let y = (x * 2 + 1).relu().sum(alongAxes: [1])   // shape [4]
/// ```
public struct Tensor: @unchecked Sendable {
    /// The extent of each axis. A scalar tensor has shape `[]` and one element.
    public private(set) var shape: [Int]
    @usableFromInline var buffer: TensorBuffer

    // MARK: Creation

    /// Wraps an existing buffer (no copy).
    @usableFromInline
    init(shape: [Int], buffer: TensorBuffer) {
        self.shape = shape
        self.buffer = buffer
    }

    /// A tensor whose elements are not initialised; the caller must write every element.
    @inlinable
    public init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, buffer: TensorBuffer(uninitializedCount: Tensor.elementCount(shape)))
    }

    /// A tensor of the given shape with every element equal to `value`.
    @inlinable
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, buffer: TensorBuffer(count: Tensor.elementCount(shape), repeating: value))
    }

    /// A tensor of zeros.
    @inlinable
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A tensor of ones.
    @inlinable
    public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

    /// A scalar (rank-0) tensor.
    @inlinable
    public init(_ value: Float) { self.init(repeating: value, shape: []) }

    /// A tensor from row-major scalars. Traps if `scalars.count` is not the product of `shape`;
    /// use ``init(validatingShape:scalars:)`` for data a user supplied.
    public init(shape: [Int], scalars: [Float]) {
        precondition(scalars.count == Tensor.elementCount(shape),
                     "Tensor(shape: \(shape)) needs \(Tensor.elementCount(shape)) scalars, got \(scalars.count)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { buffer.base.update(from: s, count: scalars.count) }
        }
    }

    /// A tensor from row-major scalars, throwing ``TensorError/shapeMismatch(_:)`` when the count
    /// does not match or a dimension is negative.
    public init(validatingShape shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.shapeMismatch("negative dimension in shape \(shape)")
        }
        guard scalars.count == Tensor.elementCount(shape) else {
            throw TensorError.shapeMismatch("shape \(shape) needs \(Tensor.elementCount(shape)) scalars, got \(scalars.count)")
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// A 1-D tensor from scalars.
    public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A tensor whose elements are produced by `body(flatIndex)`.
    @inlinable
    public init(shape: [Int], generating body: (Int) throws -> Float) rethrows {
        self.init(uninitializedShape: shape)
        let p = buffer.base
        for i in 0..<buffer.count { p[i] = try body(i) }
    }

    // MARK: Properties

    /// The number of elements (the product of ``shape``).
    @inlinable public var count: Int { buffer.count }
    /// The number of axes.
    @inlinable public var rank: Int { shape.count }
    /// The elements in row-major order, copied into an array.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: buffer.base, count: buffer.count)) }
    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar requires a one-element tensor, shape is \(shape)")
        return buffer.base[0]
    }
    /// Row-major strides, in elements.
    public var strides: [Int] { Tensor.contiguousStrides(shape) }

    /// Whether any element is NaN or ±∞.
    public var hasNonFinite: Bool {
        let p = buffer.base
        for i in 0..<count where !p[i].isFinite { return true }
        return false
    }

    // MARK: Storage access

    /// Calls `body` with the elements, read-only, without copying.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: buffer.base, count: buffer.count))
    }

    /// Calls `body` with mutable access to the elements, copying the storage first if it is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
        return try body(UnsafeMutableBufferPointer(start: buffer.base, count: buffer.count))
    }

    /// The element at a full multi-index.
    public subscript(_ index: Int...) -> Float {
        get { buffer.base[flatIndex(index)] }
        set {
            let i = flatIndex(index)
            withUnsafeMutableBufferPointer { $0[i] = newValue }
        }
    }

    /// The element at a row-major flat index.
    public subscript(flat index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count, "flat index \(index) out of range for \(count) elements")
            return buffer.base[index]
        }
        set {
            precondition(index >= 0 && index < count, "flat index \(index) out of range for \(count) elements")
            withUnsafeMutableBufferPointer { $0[index] = newValue }
        }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) has \(index.count) components, tensor has rank \(rank)")
        var flat = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(index) out of range for shape \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    // MARK: Shape helpers

    /// The product of the dimensions (1 for a scalar shape).
    @inlinable
    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides of a contiguous tensor of this shape.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = acc
            acc *= shape[axis]
        }
        return strides
    }

    /// The same elements viewed with another shape of equal element count (no copy).
    /// One dimension may be `-1` and is inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(Tensor.elementCount(resolved) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: resolved, buffer: buffer)
    }

    /// Normalises a possibly negative axis.
    @inlinable
    public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for rank \(rank)")
        return r
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(16).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 16 ? ", …" : "")])"
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and every element.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        if lhs.buffer === rhs.buffer { return true }
        let a = lhs.buffer.base, b = rhs.buffer.base
        for i in 0..<lhs.count where a[i] != b[i] { return false }
        return true
    }
}

import Foundation
