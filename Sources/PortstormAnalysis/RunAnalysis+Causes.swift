import Foundation
import PortstormRecord

extension RunAnalysis {
    /// A fraction as every report prints a share (`Format.share`).
    static func pct(_ x: Double) -> String { Format.share(x) }
    static func share(_ n: UInt64, _ r: RunRecord) -> String {
        String(format: "%.2f%%", Double(n) * 100 / Double(max(1, r.totals.attempted)))
    }

    /// "not related to the local port range" evidence for remote failures, when the record shows it.
    static func portRelation(_ o: Onset) -> String? {
        guard let occ = o.occupancyAtOnset else { return nil }
        let r = o.correlationWithOccupancy.map { String(format: ", correlation with occupancy r = %.2f over %d seconds", $0, o.correlationPoints) } ?? ""
        if occ < 0.5 && (o.correlationWithOccupancy ?? 0) < strongCorrelation {
            return "not related to the local port range: the busiest tuple was at \(pct(occ)) of its ports at the onset\(r)"
        }
        return "the busiest tuple was at \(pct(occ)) of its ports at the onset\(r)"
    }

    static func when(_ o: Onset) -> String {
        o.firstSecond == o.lastSecond ? "in second \(o.firstSecond)"
            : "from second \(o.firstSecond) to \(o.lastSecond), peak \(o.peakPerSecond.grouped)/s"
    }

    /// How clients name the mismatch: "unexpected response code" when an HTTP answer came back,
    /// "invalid HTTP response" when what came back is not HTTP at all.
    static func mismatchKind(_ sample: String, _ proto: WireProtocol) -> String {
        guard proto != .tcp else { return "unexpected answer" }
        if sample.hasPrefix("HTTP/1."), sample.count >= 12 {
            let code = sample.dropFirst(9).prefix(3)
            return proto == .ws ? "unexpected response code \(code) (a WebSocket upgrade answers 101)" : "HTTP status \(code)"
        }
        return "invalid HTTP response (not HTTP: a raw TCP, TLS or other service?)"
    }

    static func cause(_ o: Onset, _ r: RunRecord, _ cap: CapacityModel, _ witness: WitnessCheck?) -> Finding {
        if let f = pathCause(o, r) { return f }  // RunAnalysis+Path.swift: source, route and neighbour evidence
        let name = o.outcome
        var ev = ["\(o.count.grouped) attempts (\(share(o.count, r))) ended \(name), \(when(o))"]
        let counters = r.timeline.compactMap { $0.kernel?.counters }
        func total(_ counter: String) -> Int64 { counters.reduce(0) { $0 + ($1[counter] ?? 0) } }
        let target = "\(r.target.used)"
        if let f = tlsCause(o, r, evidence: ev) { return f }  // RunAnalysis+TLS.swift: certificates, alerts, TLS vs plain

        switch name {
        case "eaddrinuse" where !r.sources.isEmpty && r.config.bindBeforeConnect:
            ev.append("source addresses were bound before connect() without IP_BIND_ADDRESS_NO_PORT (--bind-before-connect)")
            ev.append("bind(ip, 0) must find a port no socket holds on that address, whatever its destination: ports in TIME_WAIT toward other servers count")
            ev.append("the limit is this client's, not the server's")
            return Finding(.problem, "bind-exhaustion", "bind() ran out of ports: a source bound before connect() takes its port exclusively",
                           evidence: ev, advice: [
                               "set IP_BIND_ADDRESS_NO_PORT before bind (drop --bind-before-connect): connect() then picks the port, shared across destinations",
                           ] + Array(portAdvice(r).prefix(2)))

        case "eaddrnotavail", "eaddrinuse":
            let range = PortBudget.effectiveRange(r.system, perSocket: r.config.localPorts)
            let short = (r.hosts ?? []).filter { $0.firstExhaustionSecond != nil }
            if r.hosts == nil {
                ev.append("effective port range \(range.low)-\(range.high): \(range.size.grouped) ports per (source, destination, port) tuple, \(cap.tuples) tuple(s)")
            } else {
                ev += short.map { "on \($0.hostName): effective port range \($0.portBudget.rangeLow)-\($0.portBudget.rangeHigh), \($0.portBudget.rangeSize) ports per tuple, \($0.portBudget.tuples) tuple(s)" }
            }
            let who = short.isEmpty ? "the client" : short.map(\.hostName).joined(separator: ", ")
            if let occ = o.occupancyAtOnset {
                ev.append("at the onset the busiest tuple had \(pct(occ)) of its ports in use")
                if let held = o.heldBeforeAtOnset, held > 0 {
                    ev.append("\(held.grouped) of those ports were already in use before the run started (left by an earlier run or another program): they count against the same budget")
                }
                if let c = correlationSentence(o) { ev.append(c) }
                // Inside the range only: TIME_WAIT on other ports (an earlier run's) holds none of these.
                let peakTW = r.timeline.compactMap { $0.kernel?.census?.busiest }
                    .compactMap { b in b.timeWaitInRange.map { ($0, b.rangeSize) } }.max { $0.0 < $1.0 }
                if let (tw, size) = peakTW, tw > 0 {
                    ev.append("up to \(tw.grouped) of that tuple's \(size.grouped) ports were held by sockets in TIME_WAIT")
                }
                if occ >= 0.9 {
                    if cap.reuseInEffect {
                        ev.append("tcp_tw_reuse = \(r.system.tcpTwReuse.map(String.init) ?? "2") already applied to this target: a TIME_WAIT tuple is reused only once it is \(r.system.tcpTwReuseDelayMs.map(String.init) ?? "1000") ms old (tcp_tw_reuse_delay), so a faster churn still fills the range")
                    }
                    if name == "eaddrinuse" {
                        ev.append("with source addresses bound before connect, a full range shows as EADDRINUSE from bind()")
                    }
                    return Finding(.problem, "port-exhaustion", "\(who) ran out of ephemeral ports toward \(target)",
                                   evidence: ev + ["the limit is this client's, not the server's"], advice: portAdvice(r))
                }
                ev.append("the range was not full: ports were not the cause")
                let advice = name == "eaddrnotavail"
                    ? ["check --source: every source address must be configured on this machine (ip addr)",
                       "check the address family: a name resolving to ::1 while the server listens on IPv4 only (resolved: \(r.target.resolved.joined(separator: ", ")))"]
                    : ["bind source addresses with IP_BIND_ADDRESS_NO_PORT (portstorm does) so that ports stay shared across destinations"]
                return Finding(.problem, "cannot-assign", "\(name) without port exhaustion: a local address problem", evidence: ev, advice: advice)
            }
            ev.append("no census in the record (run with observation on to see the ports)")
            if r.config.concurrency > cap.ports {
                ev.append("\(r.config.concurrency.grouped) attempts in flight exceed the \(cap.ports.grouped) ports available")
            }
            return Finding(.problem, "port-exhaustion", "local addresses could not be assigned (most often: ephemeral ports used up)",
                           evidence: ev, advice: portAdvice(r))

        case "econnrefused":
            return refusedCause(o, r, evidence: ev)

        case "connect_timeout", "etimedout":
            ev.append(name == "etimedout" ? "the kernel gave up after its SYN retries (tcp_syn_retries = \(r.system.tcpSynRetries.map(String.init) ?? "?"))"
                                          : "no SYN-ACK within --connect-timeout \(r.config.connectTimeoutMs) ms")
            let overflows = total("ListenOverflows"), retrans = total("TCPSynRetrans")
            if retrans > 0 { ev.append("TCPSynRetrans grew by \(retrans.grouped): SYNs were sent again") }
            if overflows > 0 {
                ev.append("ListenOverflows grew by \(overflows.grouped) on this machine: a local listener's accept queue was full and dropped SYNs")
            }
            if let rel = portRelation(o) { ev.append(rel) }
            var advice = ["a firewall or cloud security group dropping SYNs: check the rules for \(target)",
                          "the server or its host is down, or the address is internal and unreachable from this network"]
            if overflows > 0 {
                advice.insert("the server accepts too slowly: raise its listen backlog (and net.core.somaxconn) or its accept rate", at: 0)
            }
            return Finding(.problem, "timeout", "connects timed out: SYNs got no answer", evidence: ev, advice: advice)

        case "econnreset":
            ev.append("the peer sent RST on an established connection")
            if let rel = portRelation(o) { ev.append(rel) }
            return Finding(.problem, "reset", "connections reset by the peer", evidence: ev, advice: [
                "a server that closes with unread data, or aborts (SO_LINGER 0), resets: check what it does with the request",
                "an overloaded server or a middlebox (load balancer, proxy) with its own limits",
            ])

        case "emfile", "enfile":
            ev.append("RLIMIT_NOFILE soft \(r.system.openFilesSoft), hard \(r.system.openFilesHard); fs.file-max \(r.system.fileMax.map(String.init) ?? "?")")
            ev.append("a local limit: the server never saw these attempts")
            return Finding(.problem, "descriptors", "this machine ran out of file descriptors (\(name))", evidence: ev, advice: [
                name == "emfile" ? "raise the open-file limit (ulimit -n, LimitNOFILE=) or lower --concurrency"
                                 : "raise fs.file-max or lower --concurrency",
            ])

        case "enobufs":
            return Finding(.problem, "buffers", "the kernel ran out of buffer memory (ENOBUFS)", evidence: ev + ["a local limit"],
                           advice: ["lower --concurrency, or look at net.ipv4.tcp_mem and memory pressure"])

        case "protocol_mismatch" where r.config.wireProtocol == .tcp && r.config.expect != nil && r.totals.mismatchSamples != [Totals.silentClose]:
            // --expect: the server answered; what it said lacked the text (or it closed first).
            ev.append("connected, and the server answered or closed, but its answer did not contain --expect \"\(r.config.expect!)\" (judged on the first KiB, when the server closed or --response-timeout fell due)")
            for sample in r.totals.mismatchSamples { ev.append("the answer began \"\(sample)\"") }
            return Finding(.problem, "protocol", "the server answered, but not with the expected text", evidence: ev, advice: [
                "compare the answer above with --expect: the text must appear within the answer's first KiB, as sent (case and spacing)",
                "check that --send asks for what the text belongs to, and that the port serves that service",
            ])

        case "protocol_mismatch":
            if r.totals.mismatchSamples == [Totals.silentClose] {
                // Every answer judged was the server's close without a byte: no protocol to compare.
                let tls = r.tls.map { $0.handshakes > 0 ? " after the TLS handshake had completed (\($0.handshakes.grouped) handshakes)" : "" } ?? ""
                ev.append("the server closed the connection without sending a byte\(tls)")
                return Finding(.problem, "no-answer", "the server closed connections without answering", evidence: ev, advice: [
                    "a server that refuses clients after accepting them closes without a word (a client certificate it wants, an allow-list, a limit on connections or requests): read its error log",
                    "check that the port serves what the client speaks, and what the server does with this request (--path, --send)",
                ])
            }
            let expected = ["http": "an HTTP/1.x status line", "ws": "a WebSocket upgrade (101 with the right Sec-WebSocket-Accept)"]
            ev.append("connected, but the answer was not \(expected[r.config.wireProtocol.rawValue] ?? "the expected text")")
            for sample in r.totals.mismatchSamples {
                ev.append(mismatchKind(sample, r.config.wireProtocol) + ": the answer began \"\(sample)\"")
            }
            var advice = [
                "check that the port serves what the client speaks (an HTTP client on a raw TCP or TLS port, a WebSocket handshake to a plain HTTP service)",
                "a proxy in the way can answer in its own protocol",
            ]
            if r.config.wireProtocol == .http, r.totals.mismatchSamples.contains(where: { $0.contains("WebSocket upgrade") }) {
                ev.append("the server answered 426 Upgrade Required or offered Upgrade: websocket: a WebSocket-only service")
                advice.insert("speak WebSocket to it: --protocol ws (or point the HTTP client at the HTTP service)", at: 0)
            }
            return Finding(.problem, "protocol", "client and server speak different protocols", evidence: ev, advice: advice)

        case "http_status":
            // Every code the server sent that is outside the accepted set, largest count first.
            let accepted = r.config.expectStatus ?? "200-399"
            let set = HTTPStatusSet.parse(accepted) ?? .standard
            let codes = r.totals.httpStatuses.filter { code, _ in !(UInt16(code).map(set.contains) ?? false) }
                .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            ev.append("the server answered, with " + codes.map { "\($0.value) x \($0.key)" }.joined(separator: ", ")
                      + " (accepted: \(accepted))")
            var advice: [String] = []
            if codes.contains(where: { $0.key == "404" || $0.key == "410" }) { advice.append("404/410: the path does not exist on this server (--path), or a proxy routes it elsewhere") }
            if codes.contains(where: { $0.key.hasPrefix("5") }) { advice.append("5xx: the server (or a proxy in front of it) failed or was overloaded: compare with a lower rate, read the server's error log") }
            if codes.contains(where: { $0.key == "429" }) { advice.append("429: the server limits the rate of requests from this client") }
            if codes.contains(where: { $0.key == "401" || $0.key == "403" }) { advice.append("401/403: the server refuses this request without credentials") }
            if let requests = r.tls?.clientCertificateRequests, requests > 0 {
                ev.append("the server asked for a client certificate in \(requests.grouped) attempts (a CertificateRequest in the TLS handshake); portstorm sent none")
                if codes.contains(where: { $0.key == "400" || $0.key == "403" }) {
                    advice.insert("400/403 after a client certificate was asked for: the server requires one (nginx with ssl_verify_client on answers 400 "
                                  + "\"No required SSL certificate was sent\") and portstorm does not send one: " + clientCertificateFix, at: 0)
                }
            }
            advice.append("if these statuses are expected, accept them with --expect-status")
            // "error" would be wrong when the accepted set leaves out a success (200 under --expect-status 201).
            return Finding(.problem, "http-status", "the server answered with HTTP statuses outside the accepted set (\(accepted))",
                           evidence: ev, advice: advice)

        case "response_timeout":
            ev.append("connected, but no complete answer (or no close by the server) within --response-timeout \(r.config.responseTimeoutMs) ms")
            let overflows = witness?.listenOverflows ?? total("ListenOverflows")
            if let w = witness, let accepted = w.passiveOpens, accepted < Int64(clamping: w.connected), overflows > 0 {
                // The kernel says which: the server never accepted some of what the client counted.
                ev.append("the local server's kernel completed \(accepted.grouped) handshakes (PassiveOpens) for \(w.connected.grouped) connections the client counted; ListenOverflows +\(overflows.grouped)")
                return Finding(.problem, "no-answer", "no answer in time: the server's accept queue overflowed and dropped the final ACKs of at least \(saturating(Int64(clamping: w.connected), -max(0, accepted))) connections, which the server never accepted",
                               evidence: ev, advice: ["the server must accept faster: a larger listen backlog (and net.core.somaxconn), more accept threads"])
            }
            if overflows > 0 {
                ev.append("ListenOverflows grew by \(overflows.grouped) on this machine: a listener with a full accept queue drops the final ACK, so a client can count a connection its server never accepted")
                return Finding(.warning, "no-answer", "connected as the client saw it, but no answer in time (a local accept queue overflowed)", evidence: ev, advice: [
                    "if the server runs here: it must accept faster (a larger listen backlog, net.core.somaxconn, more accept threads)",
                    "an overloaded server: compare with a lower rate",
                ])
            }
            return Finding(.warning, "no-answer", "connected, but the server did not answer in time", evidence: ev, advice: [
                "a server that keeps connections open: use --close client, or keep-alive",
                "an overloaded server: compare with a lower rate",
            ])

        case "ehostunreach", "enetunreach":
            ev.append(name == "enetunreach" ? "no route to the destination network" : "no route to the host (or ICMP host unreachable)")
            return Finding(.problem, "unreachable", "the destination is unreachable from here", evidence: ev, advice: [
                "check routes (ip route get \(hostOnly(r.target.used))) and that the address is reachable from this network",
            ])

        default:
            return Finding(o.cause == .local ? .problem : .warning, "other", "\(name) (\(Outcome(name: name)?.meaning ?? name))",
                           evidence: ev + ["cause: \(o.cause.rawValue)"])
        }
    }
}
