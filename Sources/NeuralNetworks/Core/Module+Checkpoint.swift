import Foundation
import Tensors
import TensorIO

extension Module {
    /// Writes every parameter to a safetensors file, tensor names = parameter paths.
    ///
    /// The write is atomic (temporary file, then rename): an interrupted save never leaves a
    /// half-written checkpoint. The file loads in Python with `safetensors.numpy.load_file`.
    public func saveParameters(to url: URL, metadata: [String: String] = [:]) throws {
        try SafetensorsFile(tensors: parameterValues(), metadata: metadata).write(to: url)
    }

    /// Loads parameters saved by ``saveParameters(to:metadata:)`` (or any safetensors file whose
    /// names are this module's parameter paths).
    ///
    /// - Throws: ``TensorIOError`` for a malformed file, ``ModuleError`` for missing, unexpected,
    ///   mis-shaped or non-finite parameters; on error the module is unchanged.
    /// - Returns: the file's metadata.
    @discardableResult
    public func loadParameters(from url: URL, strict: Bool = true) throws -> [String: String] {
        let file = try SafetensorsFile.read(from: url)
        try loadParameterValues(file.tensors, strict: strict)
        return file.metadata
    }
}
