import Foundation

/// Tells systemd how a `Type=notify` unit is doing, through the datagram socket named by $NOTIFY_SOCKET.
public enum SystemdNotify {
    /// Sends `READY=1`; does nothing when not started by systemd.
    @discardableResult
    public static func ready() -> Bool { send("READY=1") }

    /// Sends `STOPPING=1` when a shutdown begins, so systemd shows the unit as deactivating while it drains.
    @discardableResult
    public static func stopping() -> Bool { send("STOPPING=1") }

    static func send(_ message: String) -> Bool {
        guard var path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return false }
        // A leading '@' names an abstract socket, written with a leading NUL byte.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(path.utf8)
        if abstract { pathBytes.insert(0, at: 0) }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in pathBytes.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (abstract ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(descriptor, bytes, bytes.count, 0, socketAddress, length)
            }
        }
        return sent == bytes.count
    }
}
