import CXGBoost

/// Turns an XGBoost C API status into a thrown ``TreeEnsembleError/xgboost(operation:message:)``.
///
/// XGBoost keeps its last error per thread, so the message read here is the one of the call that
/// just failed on this thread.
@inline(__always)
func xgboostCall(_ operation: String, _ status: Int32) throws {
    guard status != 0 else { return }
    let message = XGBGetLastError().map { String(cString: $0) } ?? "no message"
    throw TreeEnsembleError.xgboost(operation: operation, message: message)
}

/// The version of the linked XGBoost library (e.g. `1.7.4`).
public var xgboostVersion: String {
    var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
    XGBoostVersion(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
}
