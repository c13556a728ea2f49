import PortstormRecord

extension Diagnosis {
    /// Which protocol the port speaks (one TLS handshake without verification), and with an
    /// https:// or wss:// target, how a verified attempt ended.
    static func tlsFindings(_ p: DiagnoseObservations.AddressProbe, tlsAsked: Bool) -> [Finding] {
        var out: [Finding] = []
        if p.tls == "ok" && !tlsAsked {
            out.append(Finding(.warning, "protocol", "\(p.address) speaks TLS on this port: a TLS handshake completed",
                               evidence: p.httpStatus == 400 ? ["a plain HTTP GET got 400 (nginx: \"The plain HTTP request was sent to HTTPS port\")"] : [],
                               advice: ["use https:// or wss:// (--protocol https, wss or tls) for this port"]))
        }
        guard tlsAsked else { return out }
        if p.tls == "tls_plain_server" {
            let http = p.tlsSample?.hasPrefix("HTTP/") == true
            out.append(Finding(.problem, "protocol", "\(p.address) does not speak TLS here: " + (http ? "it answers the ClientHello in plain HTTP" : "the answer is not TLS"),
                               evidence: p.tlsSample.map { ["the answer began \"\($0)\""] } ?? [],
                               advice: [http ? "the server speaks plain HTTP here: use http:// (or ws://), or its TLS port" : "check the port: use the server's TLS port, or a plain protocol"]))
            return out
        }
        switch p.tlsVerified {
        case "ok"?:
            out.append(Finding(.info, "speaks-tls", "\(p.address) completes a verified TLS handshake and answers"))
        case let outcome?:
            var advice: [String]
            switch outcome {
            case "tls_cert_untrusted": advice = ["give the CA that issued the certificate to the client (portstorm: --cacert FILE)"]
            case "tls_cert_name_mismatch": advice = ["connect by a name the certificate holds (portstorm: --sni NAME), or fix the server's certificate"]
            case "tls_cert_expired": advice = ["renew the server's certificate; check this machine's clock (date -u)"]
            case "tls_handshake_failed": advice = ["the server refused the handshake: compare TLS versions and ciphers (--tls-min/--tls-max), read its error log"]
            case "tls_failed_after_handshake": advice = ["the server ended TLS after the handshake: read its error log"]
            default: advice = []
            }
            if p.tlsDetail?.contains("client certificate") == true { advice.insert(RunAnalysis.clientCertificateAdvice, at: 0) }
            out.append(Finding(.problem, "tls", "TLS to \(p.address) ended \(outcome)", evidence: p.tlsDetail.map { [$0] } ?? [], advice: advice))
        case nil:
            break
        }
        return out
    }
}
