import Foundation
import TensorIO

/// PNG copies of the report's SVG plots, made by Debian's `rsvg-convert` (package `librsvg2-bin`)
/// when it is installed; without it the reports stay SVG only.
enum PNGRenderer {
    /// `rsvg-convert` on the `PATH`, if any.
    static let converter: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("rsvg-convert") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Renders each SVG to a PNG beside it (`plot.svg` → `plot.png`, 2× resolution); returns the
    /// PNGs written. A plot the converter fails on is left as SVG only.
    static func renderBeside(_ svgs: [URL]) -> [URL] {
        guard let converter else { return [] }
        var written: [URL] = []
        for svg in svgs {
            let png = svg.deletingPathExtension().appendingPathExtension("png")
            // Rendered under a temporary name and renamed, like every other report file.
            let temporary = svg.deletingLastPathComponent()
                .appendingPathComponent("\(AtomicFile.temporaryPrefix)\(UUID().uuidString)-\(png.lastPathComponent)")
            defer { try? FileManager.default.removeItem(at: temporary) }
            let process = Process()
            process.executableURL = converter
            process.arguments = ["--zoom", "2", "--background-color", "white", "--output", temporary.path, svg.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
                process.waitUntilExit()
            } catch {
                continue
            }
            if process.terminationStatus == 0, rename(temporary.path, png.path) == 0 { written.append(png) }
        }
        return written
    }
}
