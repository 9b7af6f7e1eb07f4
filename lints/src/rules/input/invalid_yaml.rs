crate::declare_rule! {
    /// ## What it does
    /// Reports a file that cannot be linted: unreadable, not UTF-8, larger than 64 MiB, not
    /// valid YAML (syntax error, duplicate key), or a YAML alias bomb that would expand past the
    /// parser's budget.
    ///
    /// ## Why it matters at an edge site
    /// A manifest that the linter cannot read is one that nobody checked. ArgoCD would fail to
    /// sync it at every site at once, and nobody is on site to notice.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   name: a
    ///   name: b      # duplicate key
    /// ```
    ///
    /// ## Fix
    /// Correct the YAML at the reported line. The other files are still linted.
    pub static RULE = {
        id: "input/invalid-yaml",
        level: Error,
        summary: "File cannot be read or parsed as YAML",
        check: crate::rule::Check::Engine,
    };
}
