//! Templates that put memory into a bot's replies: the Handlebars dialect
//! NativeChat speaks (`{{doctor}}`, `{{user.FirstName}}`, `#each`, `#if`,
//! `#with`), rendered as chat text in the conversation's [`Culture`].
//!
//! A template is parsed once ([`Template::parse`]) and refused there if it
//! is too big, too deeply nested, or uses partials or decorators (which can
//! recurse without end). Rendering is bounded too: the output has a size
//! cap and every `#each` pass costs steps from a budget, so no template can
//! keep the server busy, whatever the memory it runs over.
mod culture;
mod helpers;
mod names;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Handlebars, RenderErrorReason, Renderable};
use serde_json::Value;

pub use culture::{Culture, Digits, When};
pub use names::TemplateData;

/// Bounds on one render; configurable per deployment.
#[derive(Clone, Copy, Debug)]
pub struct TemplateLimits {
    /// Largest template source, in bytes.
    pub max_bytes: usize,
    /// Largest rendered text, in bytes.
    pub max_output_bytes: usize,
    /// Deepest nesting of blocks and subexpressions.
    pub max_nesting: usize,
    /// Work one render may do in loops: every `#each` pass costs one step
    /// plus one per template element inside the block.
    pub max_steps: u64,
}

impl Default for TemplateLimits {
    fn default() -> Self {
        TemplateLimits {
            max_bytes: 16 * 1024,
            max_output_bytes: 64 * 1024,
            max_nesting: 16,
            max_steps: 100_000,
        }
    }
}

/// Why a template was refused or could not render.
#[derive(Debug, PartialEq)]
pub enum TemplateError {
    /// Malformed or unsupported; the message names the line and column.
    Invalid(String),
    /// Over a render limit (output size or loop steps).
    OverLimit(String),
}

/// A template that parsed and passed the static limits.
pub struct Template {
    compiled: handlebars::Template,
}

/// The helper that counts loop steps; inserted at the start of every
/// `#each` block, so it runs once per pass.
const STEP: &str = "__step";

impl Template {
    pub fn parse(source: &str, limits: &TemplateLimits) -> Result<Template, TemplateError> {
        if source.len() > limits.max_bytes {
            return Err(TemplateError::Invalid(format!(
                "the template is {} bytes; the limit is {}",
                source.len(),
                limits.max_bytes
            )));
        }
        nesting(source, limits.max_nesting)?;
        let mut compiled = handlebars::Template::compile(source).map_err(|e| {
            let (line, column) = e.pos().unwrap_or((1, 1));
            TemplateError::Invalid(format!(
                "line {line}, column {column}: {}",
                describe_syntax(e.reason())
            ))
        })?;
        check(&compiled)?;
        count_steps(&mut compiled);
        Ok(Template { compiled })
    }

    /// Renders over `data` (see [`TemplateData`]). A name with no value
    /// renders empty, or fails when `strict`.
    pub fn render(
        &self,
        data: &Value,
        culture: &Culture,
        strict: bool,
        limits: &TemplateLimits,
    ) -> Result<String, TemplateError> {
        let steps = Arc::new(AtomicU64::new(0));
        let mut registry = Handlebars::new();
        registry.set_strict_mode(strict);
        // Chat text: a bare value is never HTML-escaped. The escape hook is
        // where every bare `{{name}}` passes, so an ISO date is shown in the
        // culture's day-month form there.
        let bare = culture.clone();
        registry.register_escape_fn(move |text| helpers::bare_value(&bare, text));
        helpers::register(&mut registry, culture, steps.clone(), limits.max_steps);
        let context =
            handlebars::Context::wraps(data).map_err(|e| TemplateError::Invalid(e.to_string()))?;
        let mut out = Capped {
            text: String::new(),
            max: limits.max_output_bytes,
        };
        let mut render_context = handlebars::RenderContext::new(None);
        match self
            .compiled
            .render(&registry, &context, &mut render_context, &mut out)
        {
            Ok(()) => Ok(out.text),
            Err(_) if steps.load(Ordering::Relaxed) > limits.max_steps => {
                Err(TemplateError::OverLimit(format!(
                    "the template's loops would take more than {} steps over this memory",
                    limits.max_steps
                )))
            }
            Err(e) => Err(describe_render(&e, limits)),
        }
    }
}

/// Measures nesting on the source text, before the parser (which recurses
/// once per level and would overflow its stack on a few thousand): blocks
/// opened by `{{#…}}` or `{{^…}}`, each `{{else if …}}` of a chain (it
/// nests one level more), and parentheses inside a tag, outside string
/// literals.
fn nesting(source: &str, max: usize) -> Result<(), TemplateError> {
    // Open blocks: where each starts, and the levels it adds (1, plus its
    // chained `else` branches).
    let mut open: Vec<((usize, usize), usize)> = Vec::new();
    let (mut blocks, mut parens) = (0usize, 0usize);
    let (mut in_tag, mut quote) = (false, None);
    let (mut line, mut column) = (1, 1);
    let bytes = source.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let rest = &bytes[i..];
        let mut opened = false;
        if !in_tag {
            if rest.starts_with(b"{{") {
                in_tag = true;
                let start = rest[2..]
                    .iter()
                    .position(|c| !matches!(c, b'{' | b'~' | b' '))
                    .map_or(&[][..], |p| &rest[2 + p..]);
                let chained_else = start.starts_with(b"else ")
                    && !start[5..].trim_ascii_start().starts_with(b"}")
                    && !start[5..].trim_ascii_start().starts_with(b"~");
                // `{{^}}` alone is `{{else}}`; `{{^name}}` opens a block.
                let inverse_else = start.starts_with(b"^}") || start.starts_with(b"^~");
                match start.first() {
                    Some(b'#' | b'^') if !inverse_else => {
                        open.push(((line, column), 1));
                        blocks += 1;
                        opened = true;
                    }
                    Some(b'/') => blocks -= open.pop().map_or(0, |(_, levels)| levels),
                    _ if chained_else => {
                        if let Some((_, levels)) = open.last_mut() {
                            *levels += 1;
                            blocks += 1;
                            opened = true;
                        }
                    }
                    _ => {}
                }
            }
        } else if let Some(q) = quote {
            if b == q {
                quote = None;
            }
        } else {
            match b {
                b'"' | b'\'' => quote = Some(b),
                b'(' => {
                    parens += 1;
                    opened = true;
                }
                b')' => parens = parens.saturating_sub(1),
                b'}' if rest.starts_with(b"}}") => {
                    in_tag = false;
                    parens = 0;
                }
                _ => {}
            }
        }
        if opened && blocks + parens > max {
            return Err(TemplateError::Invalid(format!(
                "line {line}, column {column}: blocks, else-if chains and subexpressions nest more than {max} deep"
            )));
        }
        match b {
            b'\n' => (line, column) = (line + 1, 1),
            // Columns count characters, as the parser's positions do.
            _ if b & 0xC0 != 0x80 => column += 1,
            _ => {}
        }
    }
    if let Some(((line, column), _)) = open.last() {
        let tag: String = source
            .lines()
            .nth(line - 1)
            .unwrap_or("")
            .chars()
            .skip(column - 1)
            .skip_while(|c| matches!(c, '{' | '~' | ' ' | '#' | '^'))
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        return Err(TemplateError::Invalid(format!(
            "line {line}, column {column}: {{{{#{tag} …}}}} is not closed"
        )));
    }
    Ok(())
}

/// Refuses partials and decorators: they can include themselves without
/// end. (Nesting is bounded already, so this walk's recursion is too.)
fn check(template: &handlebars::Template) -> Result<(), TemplateError> {
    for (i, element) in template.elements.iter().enumerate() {
        let at = template.mapping.get(i).map_or((1, 1), |m| (m.0, m.1));
        check_element(element, at)?;
    }
    Ok(())
}

fn check_element(element: &TemplateElement, at: (usize, usize)) -> Result<(), TemplateError> {
    let helper = match element {
        TemplateElement::DecoratorExpression(_)
        | TemplateElement::DecoratorBlock(_)
        | TemplateElement::PartialExpression(_)
        | TemplateElement::PartialBlock(_) => {
            return Err(TemplateError::Invalid(format!(
                "line {}, column {}: partials and decorators ({{{{> …}}}}, {{{{* …}}}}) are not supported",
                at.0, at.1
            )));
        }
        TemplateElement::Expression(helper)
        | TemplateElement::HtmlExpression(helper)
        | TemplateElement::HelperBlock(helper) => helper,
        _ => return Ok(()),
    };
    let parameters = std::iter::once(&helper.name)
        .chain(&helper.params)
        .chain(helper.hash.values());
    for parameter in parameters {
        if let Parameter::Subexpression(sub) = parameter {
            check_element(&sub.element, at)?;
        }
    }
    for block in [&helper.template, &helper.inverse].into_iter().flatten() {
        check(block)?;
    }
    Ok(())
}

/// Puts `{{__step N}}` at the start of every `#each` block, N being one
/// plus the elements the block holds, so each pass pays for its work.
fn count_steps(template: &mut handlebars::Template) {
    for element in &mut template.elements {
        if let TemplateElement::HelperBlock(helper) = element {
            for block in [&mut helper.template, &mut helper.inverse]
                .into_iter()
                .flatten()
            {
                count_steps(block);
            }
            let is_each = matches!(&helper.name, Parameter::Name(n) if n == "each");
            if let (true, Some(body)) = (is_each, helper.template.as_mut()) {
                let cost = 1 + size(body);
                let step = handlebars::Template::compile(&format!("{{{{{STEP} {cost}}}}}"))
                    .expect("the step expression parses");
                let at = body
                    .mapping
                    .first()
                    .cloned()
                    .unwrap_or_else(|| step.mapping[0].clone());
                body.elements.splice(0..0, step.elements);
                body.mapping.insert(0, at);
            }
        }
    }
}

fn size(template: &handlebars::Template) -> u64 {
    template
        .elements
        .iter()
        .map(|element| match element {
            TemplateElement::HelperBlock(helper) => {
                1 + [&helper.template, &helper.inverse]
                    .into_iter()
                    .flatten()
                    .map(size)
                    .sum::<u64>()
            }
            _ => 1,
        })
        .sum()
}

fn describe_syntax(reason: &handlebars::TemplateErrorReason) -> String {
    use handlebars::TemplateErrorReason as R;
    match reason {
        R::MismatchingClosedHelper(open, close) => {
            format!("{{{{#{open}}}}} is closed by {{{{/{close}}}}}")
        }
        R::MismatchingClosedDecorator(open, close) => {
            format!("{{{{#*{open}}}}} is closed by {{{{/{close}}}}}")
        }
        R::InvalidSyntax(expected) => format!("invalid syntax, {expected}"),
        R::InvalidParam(param) => format!("invalid parameter {param:?}"),
        R::NestedSubexpression => "subexpressions cannot nest here".into(),
        other => other.to_string(),
    }
}

fn describe_render(e: &handlebars::RenderError, limits: &TemplateLimits) -> TemplateError {
    let at = match (e.line_no, e.column_no) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: "),
        _ => String::new(),
    };
    match e.reason() {
        RenderErrorReason::IOError(io) if io.to_string() == Capped::FULL => {
            TemplateError::OverLimit(format!(
                "the rendered text would be over {} bytes",
                limits.max_output_bytes
            ))
        }
        RenderErrorReason::MissingVariable(path) => TemplateError::Invalid(format!(
            "{at}{} has no value (strict mode)",
            path.as_deref().unwrap_or("a name")
        )),
        RenderErrorReason::Other(message) => TemplateError::Invalid(format!("{at}{message}")),
        other => TemplateError::Invalid(format!("{at}{other}")),
    }
}

/// The render's output, refused past `max` bytes.
struct Capped {
    text: String,
    max: usize,
}

impl Capped {
    const FULL: &'static str = "template output limit";
}

impl handlebars::Output for Capped {
    fn write(&mut self, segment: &str) -> Result<(), std::io::Error> {
        if self.text.len() + segment.len() > self.max {
            return Err(std::io::Error::other(Capped::FULL));
        }
        self.text.push_str(segment);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
