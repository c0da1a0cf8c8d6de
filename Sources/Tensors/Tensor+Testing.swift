// Test-only access to a tensor's storage object, for leak and copy-on-write tests.
// Import with `@_spi(Testing) import Tensors`; not part of the public API.

extension Tensor {
    /// The storage object behind this tensor. Two tensors share storage exactly when these are
    /// identical (`===`); a `weak` reference to it tells a leak test whether anything still holds
    /// the elements.
    @_spi(Testing)
    public var storageBuffer: TensorBuffer { buffer }
}
