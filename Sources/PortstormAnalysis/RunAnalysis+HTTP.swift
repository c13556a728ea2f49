import PortstormRecord

extension RunAnalysis {
    /// Whether `code` is in an `--expect-status` list ("200,204,300-399"); nil when the list does
    /// not parse (the engine rejects such lists, so only a hand-edited record has one).
    static func statusAccepted(_ code: Int, list: String?) -> Bool? {
        var found = false
        for item in (list ?? "200-399").split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(ends.count), let lo = ends.first!, let hi = ends.last!, lo <= hi else { return nil }
            if (lo...hi).contains(code) { found = true }
        }
        return found
    }

    /// The `http_status` outcome: which statuses came back outside the accepted set, and what
    /// each class of them usually means.
    static func httpStatusFinding(_ r: RunRecord, _ ev: [String]) -> Finding {
        var ev = ev
        let list = r.config.expectStatus ?? "200-399"
        let all = r.totals.httpStatuses.compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }
        let outside = all.filter { statusAccepted($0.0, list: list) == false }
        ev.append("accepted statuses: \(list)" + (r.config.expectStatus == nil ? " (the default; --expect-status changes it)" : " (--expect-status)"))
        if !all.isEmpty { ev.append("answers by status: " + all.map { "\($0.0) x\($0.1)" }.joined(separator: ", ")) }
        let codes = Set(outside.map(\.0))
        var advice: [String] = []
        if codes.contains(where: { (400..<500).contains($0) }) {
            ev.append("4xx: the server refused the request as sent (404 no such path, 400 malformed, 401/403 not allowed, 405 wrong method, 429 too many requests)")
            advice.append("check --path (\(r.config.path)) and the Host header (--host\(r.config.hostHeader.map { " \($0)" } ?? ", now the target as typed")): a virtual host or route that does not exist answers 404")
        }
        if codes.contains(where: { (500..<600).contains($0) }) {
            ev.append("5xx: the server failed to answer (500 an error in the server, 502/504 a proxy whose backend failed or timed out, 503 overloaded or no healthy backend)")
            advice.append("look at the server's (or proxy's) logs for these requests; compare with a lower rate or concurrency")
        }
        if codes.contains(where: { (300..<400).contains($0) || (100..<200).contains($0) }) {
            ev.append("1xx/3xx outside the accepted set: a redirect (301/302/307/308) or an upgrade the client did not ask to follow")
        }
        advice.append("if these statuses are what the server should answer, accept them: --expect-status \(list),\(outside.map { String($0.0) }.joined(separator: ","))")
        let shown = outside.prefix(4).map { "\($0.0) (\($0.1))" }.joined(separator: ", ")
        return Finding(.problem, "http-status", shown.isEmpty ? "the server answered with HTTP statuses outside the accepted set (\(list))"
                                                              : "the server answered with HTTP statuses outside the accepted set (\(list)): \(shown)",
                       evidence: ev, advice: advice)
    }
}
