import Foundation
import PortstormEngine

/// The server's half of the RFC 6455 opening handshake, for `serve --mode ws`.
enum WebSocketServerSide {
    /// The marker ServeLoop stores once a connection was answered.
    static func answered(_ state: [UInt8]) -> Bool { state == [0x01] }

    /// A server's Close frame, status 1000 (server frames are not masked).
    static let closeFrame: [UInt8] = [0x88, 0x02, 0x03, 0xE8]

    /// The answer once `request` holds a whole header block; nil while it does not.
    static func reply(to request: [UInt8]) -> [UInt8]? {
        let text = String(decoding: request, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let headers = text[..<end.lowerBound].split(separator: "\r\n")
        let key = headers.first { $0.lowercased().hasPrefix("sec-websocket-key:") }
            .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) }
        guard let key, !key.isEmpty else {
            return Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
        return Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(WebSocketHandshake.accept(for: key))\r\n\r\n").utf8)
    }
}
