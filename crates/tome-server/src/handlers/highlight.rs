//! `tome/setHighlightRules`: compiles a list of highlight rules for the session or for one
//! document; `tome/viewport` then reports their matches (see `crate::highlights`).

use std::sync::Arc;

use serde_json::json;
use tome_core::highlight::{Rule, RuleSet};
use tower_lsp_server::jsonrpc::Result;

use super::{blocking, Backend};
use crate::errors::{from_core, with_data};
use crate::protocol::*;

impl Backend {
    /// `tome/setHighlightRules`. The rules compile on a blocking thread (up to 32 regexes);
    /// viewports sent after the reply use them.
    pub async fn set_highlight_rules(
        &self,
        p: SetHighlightRulesParams,
    ) -> Result<SetHighlightRulesResult> {
        if let Some(doc) = p.doc {
            self.docs.get(doc)?;
        }
        let set = match p.rules {
            None => None,
            Some(rules) => Some(Arc::new(blocking(move || compile(&rules)).await?)),
        };
        let count = set.as_ref().map_or(0, |s| s.len()) as u64;
        if let Some(doc) = p.doc {
            // Closed while compiling: nothing to set.
            self.docs.get(doc)?;
        }
        self.highlights.set(p.doc, set);
        Ok(SetHighlightRulesResult { rules: count })
    }
}

/// Compiles `rules`; a bad one is answered with its engine error, naming the rule (index and
/// `id`) in the message and in `data.rule` / `data.id`.
fn compile(rules: &[HighlightRuleIn]) -> Result<RuleSet> {
    let list: Vec<Rule> = rules
        .iter()
        .map(|r| Rule {
            pattern: r.pattern.clone(),
            regex: r.regex,
            case_sensitive: r.case_sensitive,
            whole_word: r.whole_word,
        })
        .collect();
    RuleSet::new(&list).map_err(|e| {
        let base = from_core(e.error);
        let id = rules.get(e.index).and_then(|r| r.id.clone());
        let name = match &id {
            Some(id) => format!("highlight rule {} ({id:?})", e.index),
            None => format!("highlight rule {}", e.index),
        };
        let mut data = base.data.unwrap_or_else(|| json!({}));
        if let Some(obj) = data.as_object_mut() {
            obj.insert("rule".into(), json!(e.index));
            if let Some(id) = id {
                obj.insert("id".into(), json!(id));
            }
        }
        with_data(base.code.code(), format!("{name}: {}", base.message), data)
    })
}
