/// A dense matrix of `Double` in row-major order, with value semantics.
///
/// `Matrix` is the currency of the LAPACK wrappers: factorisations run in double precision so that
/// inverses and determinants of `Float` data (converted with ``init(rows:columns:floats:)``) keep
/// about eight more digits than a single-precision factorisation would. It is deliberately small:
/// element access, transpose, product and conversion. Heavy `Float` work belongs to `Tensor`.
///
/// ```swift
/// let a = Matrix(rows: 2, columns: 2, scalars: [4, 7, 2, 6])
/// let x = try a.solve(Matrix(rows: 2, columns: 1, scalars: [1, 0]))
/// ```
public struct Matrix: Equatable, Sendable {
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// The elements in row-major order: element (i, j) is `scalars[i * columns + j]`.
    public internal(set) var scalars: [Double]

    /// A matrix from row-major scalars. Traps if `scalars.count != rows * columns` or a dimension is
    /// negative; use ``init(rows:columns:validating:)`` for data a user supplied.
    public init(rows: Int, columns: Int, scalars: [Double]) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative, got \(rows)×\(columns)")
        precondition(scalars.count == rows * columns,
                     "Matrix(\(rows)×\(columns)) needs \(rows * columns) scalars, got \(scalars.count)")
        self.rows = rows
        self.columns = columns
        self.scalars = scalars
    }

    /// A matrix from row-major scalars, throwing ``LinearAlgebraError/shapeMismatch(_:)`` when a
    /// dimension is negative or the count does not match.
    public init(rows: Int, columns: Int, validating scalars: [Double]) throws {
        guard rows >= 0, columns >= 0 else {
            throw LinearAlgebraError.shapeMismatch("Matrix dimensions must be non-negative, got \(rows)×\(columns)")
        }
        guard scalars.count == rows * columns else {
            throw LinearAlgebraError.shapeMismatch("Matrix(\(rows)×\(columns)) needs \(rows * columns) scalars, got \(scalars.count)")
        }
        self.init(rows: rows, columns: columns, scalars: scalars)
    }

    /// A matrix with every element equal to `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, scalars: [Double](repeating: value, count: rows * columns))
    }

    /// A matrix from row-major `Float` scalars, widened exactly to `Double`.
    /// Traps if the count is not `rows * columns`.
    /// - Complexity: O(rows·columns).
    @inlinable
    public init<C: Collection>(rows: Int, columns: Int, floats: C) where C.Element == Float {
        self.init(rows: rows, columns: columns, scalars: floats.map { Double($0) })
    }

    /// The n×n identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.scalars[i * n + i] = 1 }
        return m
    }

    /// A square matrix with `diagonal` on its diagonal and zeros elsewhere.
    public init(diagonal: [Double]) {
        let n = diagonal.count
        self.init(rows: n, columns: n)
        for i in 0..<n { scalars[i * n + i] = diagonal[i] }
    }

    /// The element in row `i`, column `j`. Traps when out of range.
    public subscript(_ i: Int, _ j: Int) -> Double {
        get {
            precondition(i >= 0 && i < rows && j >= 0 && j < columns, "index (\(i), \(j)) out of range for \(rows)×\(columns)")
            return scalars[i * columns + j]
        }
        set {
            precondition(i >= 0 && i < rows && j >= 0 && j < columns, "index (\(i), \(j)) out of range for \(rows)×\(columns)")
            scalars[i * columns + j] = newValue
        }
    }

    /// The elements rounded to `Float` (values beyond `Float`'s range become ±∞).
    public var floats: [Float] { scalars.map { Float($0) } }

    /// Whether the matrix is square.
    @inlinable public var isSquare: Bool { rows == columns }

    /// Whether any element is NaN or ±∞.
    public var hasNonFinite: Bool { scalars.contains { !$0.isFinite } }

    /// The main diagonal (length `min(rows, columns)`).
    public var diagonal: [Double] { (0..<Swift.min(rows, columns)).map { scalars[$0 * columns + $0] } }

    /// The transpose.
    /// - Complexity: O(rows·columns).
    public func transposed() -> Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for i in 0..<rows { for j in 0..<columns { t.scalars[j * rows + i] = scalars[i * columns + j] } }
        return t
    }

    /// The largest |aᵢⱼ − bᵢⱼ|; traps when the shapes differ. NaN anywhere gives NaN.
    public func maxAbsDifference(_ other: Matrix) -> Double {
        precondition(rows == other.rows && columns == other.columns,
                     "maxAbsDifference of \(rows)×\(columns) and \(other.rows)×\(other.columns)")
        var worst = 0.0
        for (a, b) in zip(scalars, other.scalars) {
            let d = Swift.abs(a - b)
            if d.isNaN { return .nan }
            worst = Swift.max(worst, d)
        }
        return worst
    }

    /// Calls `body` with the row-major elements, read-only, without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with mutable access to the row-major elements (copying first if shared).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Double>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// The product `op(a)·op(b)` through BLAS dgemm, where op transposes when asked (no copy).
    /// Traps when the inner dimensions differ.
    /// - Complexity: O(m·n·k), in BLAS.
    public static func multiply(_ a: Matrix, transposeA: Bool = false,
                                _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        let transA: Transpose = transposeA ? .transpose : .none
        let transB: Transpose = transposeB ? .transpose : .none
        precondition(k == kb, "Matrix product inner dimensions differ: \(a.rows)×\(a.columns) and \(b.rows)×\(b.columns)")
        var c = Matrix(rows: m, columns: n)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                c.scalars.withUnsafeMutableBufferPointer { pc in
                    guard let ap = pa.baseAddress, let bp = pb.baseAddress, let cp = pc.baseAddress else { return }
                    BLAS.gemm(transA, transB, m: m, n: n, k: k,
                              a: ap, lda: Swift.max(1, a.columns), b: bp, ldb: Swift.max(1, b.columns),
                              c: cp, ldc: Swift.max(1, n))
                }
            }
        }
        return c
    }

    /// The matrix product `lhs·rhs` (see ``multiply(_:transposeA:_:transposeB:)``).
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { multiply(lhs, rhs) }
}

extension Matrix: CustomStringConvertible {
    /// The shape and up to the first 16 elements.
    public var description: String {
        let shown = scalars.prefix(16).map { "\($0)" }.joined(separator: ", ")
        return "Matrix(\(rows)×\(columns), [\(shown)\(scalars.count > 16 ? ", …" : "")])"
    }
}
