/// The version written into every record and printed by `portstorm --version`.
public enum PortstormVersion {
    public static let current = "0.1.0"
}
