import PortstormRecord
import Testing
@testable import PortstormTLS

/// The client over memory BIOs, without any socket: bytes go in and out by hand.
@Suite struct TLSClientsTests {
    @Test func aClientHelloComesOutBeforeAnythingIsRead() throws {
        let clients = TLSClients(context: try TLSContext(config: TLSConfig(insecure: true), host: "example.test"), count: 2)
        clients.begin(1)
        #expect(clients.handshake(1) == .wantRead)
        let n = clients.pendingOutput(1)
        #expect(n > 100)
        var out = [UInt8](repeating: 0, count: n)
        #expect(clients.takeOutput(1, into: &out, capacity: n) == n)
        // A handshake record (22), version 3.x, then a ClientHello (1).
        #expect(out[0] == 22 && out[1] == 3 && out[5] == 1)
        #expect(out.withUnsafeBytes { TLSRecordSniff.looksLikeTLS($0) })
    }

    @Test func aPlainHTTPAnswerToTheClientHelloIsAPlainServer() throws {
        let clients = TLSClients(context: try TLSContext(config: TLSConfig(), host: "example.test"), count: 1)
        clients.begin(0)
        #expect(clients.handshake(0) == .wantRead)
        let answer = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(!answer.withUnsafeBytes { TLSRecordSniff.looksLikeTLS($0) })
        clients.feed(0, answer, answer.count)
        #expect(clients.handshake(0) == .failed)
        #expect(clients.failure(0).outcome == .tlsPlainServer)
        // The slot is usable again after begin.
        clients.begin(0)
        #expect(clients.handshake(0) == .wantRead)
    }

    @Test func aBadOptionIsOneSentence() {
        #expect(throws: TLSSetupError.self) { try TLSContext(config: TLSConfig(caFile: "/nonexistent/ca.pem"), host: "h") }
        do {
            _ = try TLSContext(config: TLSConfig(minVersion: "1.3", maxVersion: "1.2"), host: "h")
            Issue.record("accepted --tls-min above --tls-max")
        } catch {
            #expect(error.message == "--tls-min 1.3 is above --tls-max 1.2")
        }
    }

    @Test func alertNamesFollowTheRFC() {
        #expect(TLSAlert.name(40) == "handshake_failure")
        #expect(TLSAlert.name(70) == "protocol_version")
        #expect(TLSAlert.name(200) == "alert_200")
    }
}
