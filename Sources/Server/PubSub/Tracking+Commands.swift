import Commands
import Synchronization
import RESP
import Storage

/// CLIENT TRACKING, CACHING and TRACKINGINFO; turning tracking on and off.
extension Worker {
    func startTracking(_ c: Client, _ t: ClientTracking) {
        if c.tracking == nil {
            pubsub.trackers[c.id] = c
            handle.trackers.add(1)
            state.trackingClients.add(1)
            applyNotifyConfig()
        }
        c.tracking = t
    }

    func stopTracking(_ c: Client) {
        guard let t = c.tracking else { return }
        if t.bcast { state.bcast.remove(token: trackingToken(c, t)) }
        c.tracking = nil
        pubsub.trackers[c.id] = nil
        handle.trackers.add(-1)
        state.trackingClients.add(-1)
        applyNotifyConfig()
    }

    /// CLIENT TRACKING ON|OFF [REDIRECT id] [OPTIN] [OPTOUT] [NOLOOP];
    /// BCAST [PREFIX p ...].
    func clientTracking(_ c: Client, _ r: Reply) {
        var optin = false, optout = false, noloop = false
        var redirect = 0
        var bcast = false
        var prefixes: [[UInt8]] = []
        var j = 3
        while j < args.count {
            let a = args[j]
            let more = args.count - 1 - j
            if a.equalsLower("redirect") && more > 0 {
                j += 1
                if redirect != 0 { return r.error("ERR A client can only redirect to a single other client") }
                guard let v = parseStrictInt(args[j].ptr, args[j].count) else { return r.error(Err.notInteger) }
                if state.clientDirectory.find(v) == nil {
                    return r.error("ERR The client ID you want redirect to does not exist")
                }
                redirect = v
            } else if a.equalsLower("bcast") {
                bcast = true
            } else if a.equalsLower("prefix") && more > 0 {
                j += 1
                prefixes.append(args[j].bytes)
            } else if a.equalsLower("optin") {
                optin = true
            } else if a.equalsLower("optout") {
                optout = true
            } else if a.equalsLower("noloop") {
                noloop = true
            } else {
                return r.error(Err.syntax)
            }
            j += 1
        }
        if args[2].equalsLower("on") {
            if !bcast && !prefixes.isEmpty { return r.error("ERR PREFIX option requires BCAST mode to be enabled") }
            if let t = c.tracking, t.bcast != bcast {
                return r.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if bcast && (optin || optout) { return r.error("ERR OPTIN and OPTOUT are not compatible with BCAST") }
            if optin && optout { return r.error("ERR You can't specify both OPTIN mode and OPTOUT mode") }
            if let t = c.tracking, (optin && t.optout) || (optout && t.optin) {
                return r.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
            }
            if bcast, let e = prefixCollision(c.tracking?.prefixes ?? [], prefixes) { return r.error(string: e) }
            let t = c.tracking ?? ClientTracking()
            t.optin = optin
            t.optout = optout
            t.noloop = noloop
            t.redirect = redirect
            t.brokenRedirect = false
            startTracking(c, t)
            if bcast {
                t.bcast = true
                if prefixes.isEmpty { prefixes = [[]] }
                for p in prefixes where !t.prefixes.contains(p) { t.prefixes.append(p) }
                t.prefixes.sort { $0.lexicographicallyPrecedes($1) }
                state.bcast.add(prefixes, token: trackingToken(c, t))
            }
        } else if args[2].equalsLower("off") {
            stopTracking(c)
        } else {
            return r.error(Err.syntax)
        }
        r.ok()
    }

    func clientCaching(_ c: Client, _ r: Reply) {
        guard let t = c.tracking else {
            return r.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        }
        if args[2].equalsLower("yes") {
            if !t.optin { return r.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.") }
        } else if args[2].equalsLower("no") {
            if !t.optout { return r.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.") }
        } else {
            return r.error(Err.syntax)
        }
        t.caching = true
        r.ok()
    }

    func clientTrackingInfo(_ c: Client, _ r: Reply) {
        r.map(3)
        r.bulk(static: "flags")
        if let t = c.tracking {
            var flags: [StaticString] = ["on"]
            if t.bcast { flags.append("bcast") }
            if t.optin { flags.append("optin") }
            if t.optout { flags.append("optout") }
            if t.caching { flags.append(t.optin ? "caching-yes" : "caching-no") }
            if t.noloop { flags.append("noloop") }
            if t.brokenRedirect { flags.append("broken_redirect") }
            r.set(flags.count)
            for f in flags { r.bulk(static: f) }
        } else {
            r.set(1)
            r.bulk(static: "off")
        }
        r.bulk(static: "redirect")
        r.int(c.tracking?.redirect ?? -1)
        r.bulk(static: "prefixes")
        let ps = c.tracking?.prefixes ?? []
        r.array(ps.count)
        for p in ps { r.bulk(p) }
    }

    /// Redis's checkPrefixCollisionsOrReply: a client's prefixes may not
    /// be prefixes of one another.
    func prefixCollision(_ existing: [[UInt8]], _ given: [[UInt8]]) -> String? {
        func overlap(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.starts(with: b) || b.starts(with: a) }
        func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
        for (i, p) in given.enumerated() {
            if let e = existing.first(where: { overlap($0, p) }) {
                return "ERR Prefix '\(text(p))' overlaps with an existing prefix '\(text(e))'. Prefixes for a single client must not overlap."
            }
            if let o = given[(i + 1)...].first(where: { overlap($0, p) }) {
                return "ERR Prefix '\(text(p))' overlaps with another provided prefix '\(text(o))'. Prefixes for a single client must not overlap."
            }
        }
        return nil
    }
}
