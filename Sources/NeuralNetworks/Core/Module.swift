import Tensors
import Autograd

/// Anything that maps a variable to a variable: layers, activations, whole models.
public protocol Layer: AnyObject {
    /// The forward pass. Runs on the input's tape (recording) or without one (inference).
    func callAsFunction(_ input: Variable) -> Variable
}

/// The base class of every layer and model: owns ``Parameter``s and child modules, which are
/// discovered by reflection and addressed by dotted paths such as `blocks.0.attention.query`.
///
/// Subclasses declare parameters and children as stored properties (`let weight: Parameter`,
/// `let layers: [Module]`, optionals allowed); nothing needs registering by hand. Paths are the
/// property names, with array elements numbered — the keys used by optimizers and checkpoints.
/// The properties are reflected once per instance, on first use, so they must be `let` (a
/// parameter's value changes in place; the property never points at another parameter).
open class Module {
    /// Whether the module is in training mode (dropout active). Set with ``train()`` / ``eval()``.
    public private(set) var isTraining = true

    /// Creates a module in training mode. Subclasses initialise their stored parameters and children
    /// before calling `super.init()`; nothing needs registering.
    public init() {}

    /// A reflected stored property that holds parameters or children.
    private enum Member {
        case parameter(Parameter)
        case child(Module)
        case children([Module])
        case parameters([Parameter])
    }

    /// The reflected members, computed on first use: reflection walks every stored property of
    /// every class in the hierarchy, which is far too slow to repeat on each ``namedParameters()``
    /// call (every optimizer step and tape watch asks for it). Parameters and children are `let`
    /// properties (their values are mutated in place, never replaced), so the list stays valid.
    private var cachedMembers: [(name: String, member: Member)]?

    /// The direct children and parameters, by property name, in declaration order (superclass
    /// properties first); properties of other types are skipped.
    private func reflectedMembers() -> [(name: String, member: Member)] {
        if let cachedMembers { return cachedMembers }
        var mirrors: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let mirror = m, mirror.subjectType != Module.self {
            mirrors.append(mirror)
            m = mirror.superclassMirror
        }
        var members: [(name: String, member: Member)] = []
        // Superclass properties first, like declaration order reads.
        for mirror in mirrors.reversed() {
            for child in mirror.children {
                guard let name = child.label else { continue }
                let value = child.value
                if let p = value as? Parameter {
                    members.append((name, .parameter(p)))
                } else if let c = value as? Module {
                    members.append((name, .child(c)))
                } else if let cs = value as? [Module] {
                    members.append((name, .children(cs)))
                } else if let ps = value as? [Parameter] {
                    members.append((name, .parameters(ps)))
                }
            }
        }
        cachedMembers = members
        return members
    }

    /// Every parameter with its path, depth first in declaration order.
    public func namedParameters() -> [(path: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        collect(prefix: "", into: &result)
        return result
    }

    private func collect(prefix: String, into result: inout [(String, Parameter)]) {
        for (name, member) in reflectedMembers() {
            let path = prefix + name
            switch member {
            case .parameter(let p):
                result.append((path, p))
            case .child(let child):
                child.collect(prefix: path + ".", into: &result)
            case .children(let children):
                for (i, child) in children.enumerated() { child.collect(prefix: "\(path).\(i).", into: &result) }
            case .parameters(let params):
                for (i, p) in params.enumerated() { result.append(("\(path).\(i)", p)) }
            }
        }
    }

    /// The direct child modules with their property names.
    public func namedChildren() -> [(name: String, module: Module)] {
        var result: [(String, Module)] = []
        for (name, member) in reflectedMembers() {
            switch member {
            case .child(let child): result.append((name, child))
            case .children(let children):
                for (i, c) in children.enumerated() { result.append(("\(name).\(i)", c)) }
            case .parameter, .parameters: break
            }
        }
        return result
    }

    /// All parameters, in path order.
    public var parameters: [Parameter] { namedParameters().map(\.parameter) }

    /// The total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The parameter at a dotted path, if any.
    public func parameter(at path: String) -> Parameter? {
        namedParameters().first { $0.path == path }?.parameter
    }

    /// A snapshot of every parameter's value by path (cheap: tensors share storage until mutated).
    public func parameterValues() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.path, $0.parameter.value) })
    }

    /// Replaces parameter values by path.
    ///
    /// - Throws: ``ModuleError`` when a key is missing or unexpected (with `strict`), a shape
    ///   differs, or a value is NaN/∞; on error no parameter is changed.
    public func loadParameterValues(_ values: [String: Tensor], strict: Bool = true) throws {
        let named = namedParameters()
        let known = Set(named.map(\.path))
        if strict {
            let missing = known.subtracting(values.keys).sorted()
            if !missing.isEmpty { throw ModuleError.missingParameters(missing) }
            let unexpected = Set(values.keys).subtracting(known).sorted()
            if !unexpected.isEmpty { throw ModuleError.unexpectedParameters(unexpected) }
        }
        for (path, p) in named {
            guard let v = values[path] else { continue }
            guard v.shape == p.value.shape else {
                throw ModuleError.shapeMismatch(path: path, expected: p.value.shape, found: v.shape)
            }
            if v.hasNonFinite { throw ModuleError.nonFinite(path: path) }
        }
        for (path, p) in named { if let v = values[path] { p.value = v } }
    }

    /// Training mode, recursively (dropout active).
    public func train() { setTraining(true) }
    /// Evaluation mode, recursively (dropout off).
    public func eval() { setTraining(false) }
    private func setTraining(_ on: Bool) {
        isTraining = on
        for (_, child) in namedChildren() { child.setTraining(on) }
    }
}

extension Parameter {
    /// This parameter as a variable on `tape` (watched for gradients), or a constant when there
    /// is no tape (inference).
    @inlinable
    public func variable(on tape: Tape?) -> Variable {
        tape?.watch(self) ?? Variable(value)
    }
}
