//! Response fields in the order the query selected them, as the GraphQL
//! spec requires. async-graphql 7 assembles an object from its fields in
//! the order they finish, so a field that waits on the database can move
//! behind one that does not. This extension keeps the parsed document and
//! puts every object of the result back in selection order.
use std::sync::{Arc, Mutex};

use async_graphql::{
    Positioned, Response, ServerResult, Value, Variables,
    async_trait::async_trait,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
    },
};

pub struct FieldOrder;

impl ExtensionFactory for FieldOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(KeepOrder::default())
    }
}

#[derive(Default)]
struct KeepOrder {
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_trait]
impl Extension for KeepOrder {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.document.lock().unwrap_or_else(|e| e.into_inner()) = Some(document.clone());
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let document = self
            .document
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(document) = document {
            in_selection_order(&mut response, &document, operation_name);
        }
        response
    }
}

/// Puts `response`'s objects in the order `document` selected them. The
/// extension does it for queries and mutations; subscriptions' results
/// (which async-graphql builds outside `execute`) pass here one by one.
pub fn in_selection_order(
    response: &mut Response,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) {
    if let Some(operation) = selected_operation(document, operation_name) {
        reorder(
            &mut response.data,
            &[&operation.node.selection_set.node],
            document,
        );
    }
}

/// The operation a request runs: the one it names, or the document's only
/// one (named or not) when it names none.
pub fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Orders `value`'s keys by their first place in `sets` (the selections
/// that produced it), then does the same below each key.
fn reorder(value: &mut Value, sets: &[&SelectionSet], document: &ExecutableDocument) {
    match value {
        Value::List(items) => items
            .iter_mut()
            .for_each(|item| reorder(item, sets, document)),
        Value::Object(map) => {
            let mut selected: Vec<(&str, Vec<&SelectionSet>)> = vec![];
            for set in sets {
                collect(set, document, &mut selected);
            }
            let mut unordered = std::mem::take(map);
            for (key, below) in selected {
                if let Some((key, mut value)) = unordered.shift_remove_entry(key) {
                    reorder(&mut value, &below, document);
                    map.insert(key, value);
                }
            }
            map.extend(unordered);
        }
        _ => {}
    }
}

/// Response keys of `set` in order, fragments expanded, each with the
/// selection sets below it.
fn collect<'d>(
    set: &'d SelectionSet,
    document: &'d ExecutableDocument,
    into: &mut Vec<(&'d str, Vec<&'d SelectionSet>)>,
) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.as_str();
                let below = &field.node.selection_set.node;
                match into.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sets)) => sets.push(below),
                    None => into.push((key, vec![below])),
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, document, into);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(&inline.node.selection_set.node, document, into)
            }
        }
    }
}
