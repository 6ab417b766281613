public import APIMachinery

extension MetaLabelSelector {
    /// The selector to match labels with, as upstream's `LabelSelectorAsSelector`: empty matches everything.
    ///
    /// A nil `MetaLabelSelector?` field matches nothing upstream; callers decide that case themselves.
    public func labelSelector() throws(APIError) -> LabelSelector {
        try LabelSelector(object: toJSON())
    }
}
