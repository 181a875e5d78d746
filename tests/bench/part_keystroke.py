"""Keystroke round trip, direct and through the proxy, side by side; and in
a strict-mode shell, where the proxy's line editor echoes at the prompt."""
import escort_stack
import keystroke as ks


def keystroke(ctx, stack, direct, n):
    rep = ctx.rep
    argvs = {"direct": direct()}
    if stack.ok:
        argvs["proxy"] = stack.ssh(["-tt"])
        argvs["strict"] = stack.ssh(["-tt"], user="%s:%s" % (escort_stack.USER,
                                                             escort_stack.STRICT_TARGET))
    try:
        res = ks.compare(argvs, n)
    except RuntimeError as e:
        if "proxy" in argvs and str(e).startswith(("proxy", "strict")):
            ctx.log("   proxy keystrokes failed (%s); direct only" % e)
            res = ks.compare({"direct": argvs["direct"]}, n)
            stack_reason = str(e)
        else:
            for nm in ("keystroke_direct_p50", "keystroke_proxy_added_p99"):
                rep.na(nm, str(e))
            return
    else:
        stack_reason = stack.reason
    us = 1e6
    d50, d99 = ks.percentile(res["direct"], 50) * us, ks.percentile(res["direct"], 99) * us
    rep.add("keystroke_direct_p50", d50, "us")
    rep.add("keystroke_direct_p99", d99, "us")
    if "proxy" not in res:
        for nm in ("keystroke_proxy_p50", "keystroke_proxy_p99", "keystroke_proxy_added_p99"):
            rep.na(nm, stack_reason)
        return
    p50, p99 = ks.percentile(res["proxy"], 50) * us, ks.percentile(res["proxy"], 99) * us
    rep.add("keystroke_proxy_p50", p50, "us")
    rep.add("keystroke_proxy_p99", p99, "us")
    rep.add("keystroke_proxy_added_p50", p50 - d50, "us")
    rep.add("keystroke_proxy_added_p99", p99 - d99, "us")
    rep.add("keystroke_proxy_vs_direct_p99", p99 / d99, "x")
    s50, s99 = ks.percentile(res["strict"], 50) * us, ks.percentile(res["strict"], 99) * us
    rep.add("keystroke_strict_p50", s50, "us")
    rep.add("keystroke_strict_p99", s99, "us")
    rep.add("keystroke_strict_added_p99", s99 - d99, "us")
