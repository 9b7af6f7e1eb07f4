crate::declare_rule! {
    /// ## What it does
    /// Reports a YAML document that is not a mapping (a bare string, a list, a number).
    ///
    /// ## Why it matters at an edge site
    /// Kubernetes objects are mappings. A stray list or a text fragment in a manifest stream is
    /// usually a broken merge or a mis-indented block; `kubectl apply` and ArgoCD reject the
    /// whole file, so the site keeps running its old version without anyone being told.
    ///
    /// ## Example
    /// ```yaml
    /// ---
    /// - name: app     # a list, not an object
    /// ```
    ///
    /// ## Fix
    /// Make the document a Kubernetes object (`apiVersion`, `kind`, `metadata`), or remove it.
    pub static RULE = {
        id: "input/not-an-object",
        level: Error,
        summary: "YAML document is not a mapping",
        check: crate::rule::Check::Engine,
    };
}
