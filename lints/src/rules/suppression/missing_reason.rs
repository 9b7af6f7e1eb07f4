crate::declare_rule! {
    /// ## What it does
    /// Reports an `edgefleet.io/ignore` annotation without an `edgefleet.io/ignore-reason`
    /// next to it, or one that names a rule edgefleet does not have. Such a suppression is not
    /// applied: the findings it meant to hide are reported as well.
    ///
    /// ## Why it matters at an edge site
    /// A suppressed finding is a risk someone accepted for hundreds of sites. Without a written
    /// reason, the next person cannot tell a deliberate exception from a shortcut.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     edgefleet.io/ignore: security/privileged
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     edgefleet.io/ignore: security/privileged
    ///     edgefleet.io/ignore-reason: "CAN bus driver needs raw device access (ticket OPS-412)"
    /// ```
    pub static RULE = {
        id: "suppression/missing-reason",
        level: Error,
        summary: "Suppression annotation without a reason, or naming an unknown rule",
        check: crate::rule::Check::Engine,
    };
}
