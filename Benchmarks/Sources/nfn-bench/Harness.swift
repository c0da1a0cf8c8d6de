import Foundation

/// Wall-clock timing helpers. Every reported number is a ratio of two medians measured in the
/// same process run, interleaved where possible, so machine noise hits both sides alike.
enum Clock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    /// Milliseconds per call of `body`, one sample per repeat after `warmup` untimed calls.
    static func samples(repeats: Int, warmup: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<repeats).map { _ in
            let t0 = now()
            body()
            return now() - t0
        }
    }

    /// Interleaved samples of two bodies (A, B, A, B, …) so drifts in machine load cancel.
    static func interleaved(repeats: Int, warmup: Int, _ a: () -> Void, _ b: () -> Void) -> ([Double], [Double]) {
        for _ in 0..<warmup { a(); b() }
        var sa: [Double] = [], sb: [Double] = []
        for _ in 0..<repeats {
            var t0 = now(); a(); sa.append(now() - t0)
            t0 = now(); b(); sb.append(now() - t0)
        }
        return (sa, sb)
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// One row of the report.
struct BenchmarkRow: Codable {
    var name: String
    var ours_median_ms: Double
    var reference: String
    var reference_median_ms: Double?
    /// What the ratio means (e.g. "ours / PyTorch time" or "ours / OpenBLAS GFLOP/s").
    var ratio_kind: String
    var ratio: Double?
    var note: String?
}

/// Runs a Python reference script that needs `module`; nil when python3 or the module is missing
/// or the script fails. Returns its JSON object of cases.
func pythonResults(script: String, module: String, threads: Int, repeats: Int, extra: [String]) -> [String: [String: Any]]? {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import \(module)"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    do { try probe.run(); probe.waitUntilExit() } catch { return nil }
    guard probe.terminationStatus == 0 else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", script, "--threads", "\(threads)", "--repeats", "\(repeats)"] + extra
    let pipe = Pipe()
    p.standardOutput = pipe
    do { try p.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    return try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]]
}

/// Runs a PyTorch reference script (`torch_reference.py` and its siblings) and returns median ms
/// per case, or nil when torch is absent or the script fails.
func pytorchMedians(script: String, threads: Int, repeats: Int, cases: [String]?, extra: [String] = []) -> [String: Double]? {
    pythonResults(script: script, module: "torch", threads: threads, repeats: repeats,
                  extra: (cases.map { ["--cases", $0.joined(separator: ",")] } ?? []) + extra)?
        .compactMapValues { $0["median_ms"] as? Double }
}
