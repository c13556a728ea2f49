import PortstormRecord

extension RunAnalysis {
    /// The finding for a TLS outcome: the record's sentences for it (`tls.failures`: the alert, the
    /// certificate's names and dates), the first bytes of the answer for a protocol mismatch, and
    /// the fix. nil for other outcomes.
    static func tlsCause(_ o: Onset, _ r: RunRecord, evidence: [String]) -> Finding? {
        let name = o.outcome
        guard name.hasPrefix("tls_") else { return nil }
        var ev = evidence
        let tls = r.tls
        // The sentences counted under this outcome, most frequent first.
        let sentences = (tls?.failures ?? [:]).filter { tls?.failureOutcomes[$0.key] == name }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        ev += sentences.prefix(3).map { "\($0.value.grouped) x \($0.key)" }
        let host = r.config.tls?.sni ?? r.target.host
        let scheme = r.config.wireProtocol == .ws ? "wss://" : r.config.wireProtocol == .http ? "https://" : "--protocol tls"
        let plainScheme = r.config.wireProtocol == .ws ? "ws://" : r.config.wireProtocol == .http ? "http://" : "--protocol tcp"
        let target = r.target.used

        switch name {
        case "tls_cert_expired":
            return Finding(.problem, "tls-certificate", "the server's certificate is expired or not yet valid", evidence: ev, advice: [
                "renew the server's certificate (or fix the server's clock when it is not valid yet)",
                "check this machine's clock too (date -u): a wrong clock makes a good certificate look expired",
                "--insecure skips the check, to measure the load while the certificate is being fixed",
            ])
        case "tls_cert_untrusted":
            ev.append(r.config.tls?.caFile.map { "trusted CAs: \($0) (--cacert)" } ?? "trusted CAs: the system's store (no --cacert)")
            return Finding(.problem, "tls-certificate", "the server's certificate is not trusted here (self-signed or an unknown CA)", evidence: ev, advice: [
                "give the CA that issued it: --cacert ca.pem (for a self-signed certificate, the certificate itself)",
                "a public server should send its whole chain (nginx: ssl_certificate holds the leaf, then the intermediates)",
                "--insecure skips the check, for a test server",
            ])
        case "tls_cert_name_mismatch":
            ev.append("the name checked was \(host)\(r.config.tls?.sni != nil ? " (--sni)" : " (the target's host)")")
            return Finding(.problem, "tls-certificate", "the server's certificate does not name \(host)", evidence: ev, advice: [
                "connect by a name the certificate holds, or send it with --sni NAME (the address stays \(target))",
                "or give the server a certificate for \(host) (subjectAltName)",
            ])
        case "tls_handshake_failed":
            var advice = ["read the server's error log for the handshake: it names what it refused"]
            let text = sentences.map(\.key).joined(separator: " ")
            if text.contains("client certificate") {
                advice.insert(clientCertificateAdvice, at: 0)
            }
            if text.contains("protocol_version") {
                advice.insert("the server refused the TLS version offered: widen --tls-min / --tls-max (the server accepts only other versions)", at: 0)
            }
            if text.contains("handshake_failure") && !text.contains("client certificate") {
                advice.insert("no cipher, group or signature algorithm in common, or the server wants something the client did not offer (SNI, ALPN, a client certificate)", at: 0)
            }
            if text.contains("no_application_protocol") {
                advice.insert("the server speaks none of the --alpn protocols offered", at: 0)
            }
            return Finding(.problem, "tls-handshake", "TLS handshakes with \(target) failed", evidence: ev, advice: advice)
        case "tls_failed_after_handshake":
            let text = sentences.map(\.key).joined(separator: " ")
            let alerts = text.contains("sent the alert")
            if let requests = tls?.clientCertificateRequests, requests > 0, !text.contains("client certificate") {
                ev.append("the server asked for a client certificate in \(requests.grouped) attempts (a CertificateRequest in the handshake); portstorm sent none")
            }
            var advice = ["read the server's error log: it says why it ended the connection"]
            if text.contains("client certificate") || text.contains("certificate_required") {
                advice.insert(clientCertificateAdvice, at: 0)
            }
            if r.tls?.versions["TLSv1.3"] ?? 0 > 0 {
                ev.append("in TLS 1.3 the client's handshake is complete once it sends its Finished: a server that rejects the client (its certificate, above all) says so afterwards, while the request is under way")
            }
            return Finding(.problem, "tls-handshake",
                           alerts ? "the server rejected the connections after the TLS handshake, with an alert" : "TLS failed after the handshake",
                           evidence: ev, advice: advice)
        case "tls_plain_server":
            for sample in r.totals.mismatchSamples.prefix(2) { ev.append("the answer to the ClientHello began \"\(sample)\"") }
            let http = r.totals.mismatchSamples.contains { $0.hasPrefix("HTTP/") }
            return Finding(.problem, "protocol", http ? "the server speaks plain HTTP here, not TLS" : "the server does not speak TLS on this port",
                           evidence: ev, advice: [
                               http ? "use \(plainScheme) for this port (or the server's TLS port, often 443)" : "use \(plainScheme) for this port, or the server's TLS port",
                           ])
        case "tls_required":
            for sample in r.totals.mismatchSamples.prefix(2) { ev.append("the answer began \"\(sample)\"") }
            return Finding(.problem, "protocol", "the server speaks TLS here: the plain request was refused", evidence: ev, advice: [
                "use \(scheme) (TLS) for this port, or the server's plain port",
            ])
        case "tls_handshake_timeout":
            ev.append("connected, but the handshake did not complete within --response-timeout \(r.config.responseTimeoutMs) ms")
            return Finding(.warning, "tls-handshake", "TLS handshakes did not complete in time", evidence: ev, advice: [
                "a server whose CPU is saturated by handshakes: compare with a lower rate, or resume sessions (--tls-resume)",
                "a plain service that waits for the client to speak first never answers a ClientHello: check the port",
            ])
        default:
            return nil
        }
    }

    /// What to do when the server wants a client certificate (mutual TLS), which portstorm cannot send.
    static let clientCertificateAdvice = "the server asks for a client certificate (mutual TLS) and portstorm does not send one: " + clientCertificateFix
    static let clientCertificateFix = "point it at a port or server that does not require client certificates (nginx: ssl_verify_client optional or off)"
}
