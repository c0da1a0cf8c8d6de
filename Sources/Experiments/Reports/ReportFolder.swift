import Foundation
import TensorIO

/// Writing a report's files: the one place that creates the folder, writes every file atomically
/// (``AtomicFile``) and adds a PNG beside each SVG when `rsvg-convert` is installed.
enum ReportFolder {
    /// Writes `files` (name, bytes) into `directory`, created if needed.
    ///
    /// - Returns: the files written, PNGs last.
    /// - Throws: ``ExperimentError/invalidArgument(_:)`` naming the folder or file that could not be written.
    static func write(_ files: [(name: String, data: Data)], to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ExperimentError.invalidArgument("cannot create \(directory.path): \(error.localizedDescription)")
        }
        var written: [URL] = []
        for (name, data) in files {
            let url = directory.appendingPathComponent(name)
            do {
                try AtomicFile.write(data, to: url)
            } catch {
                throw ExperimentError.invalidArgument("could not write \(url.path): \(error)")
            }
            written.append(url)
        }
        return written + PNGRenderer.renderBeside(written.filter { $0.pathExtension == "svg" })
    }
}
