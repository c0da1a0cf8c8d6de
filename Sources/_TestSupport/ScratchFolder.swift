import Foundation

/// This test process's scratch folder, `<tmp>/swiftnfn-tests/<uuid>`. Folders that earlier runs
/// left there more than an hour ago are removed when it is first used.
public let scratchRoot: URL = {
    let fm = FileManager.default
    let parent = fm.temporaryDirectory.appendingPathComponent("swiftnfn-tests")
    for name in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? [] {
        let url = parent.appendingPathComponent(name)
        if let modified = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date,
           Date().timeIntervalSince(modified) > 3600 {
            try? fm.removeItem(at: url)
        }
    }
    let root = parent.appendingPathComponent(UUID().uuidString)
    try? fm.createDirectory(at: root, withIntermediateDirectories: true)
    return root
}()

/// A fresh empty folder in this process's scratch folder.
public func makeTemporaryDirectory(_ label: String = "scratch") -> URL {
    let url = scratchRoot.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
