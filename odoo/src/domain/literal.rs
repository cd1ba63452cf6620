//! A small parser for the literal syntax shared by JSON and Python: lists, tuples, strings,
//! numbers, `True`/`False`/`None` and `true`/`false`/`null`.

use super::DomainError;

/// Deepest nesting accepted; deeper input is refused instead of exhausting the stack.
const MAX_DEPTH: usize = 32;

/// A parsed literal and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Literal {
    pub(crate) at: usize,
    pub(crate) kind: LiteralKind,
}

/// The kinds of literal the filter syntax has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LiteralKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Literal>),
}

/// Parses `input` as exactly one literal, surrounded by optional white space.
pub(crate) fn parse(input: &str) -> Result<Literal, DomainError> {
    let mut parser = Parser { input, pos: 0 };
    parser.skip_space();
    let literal = parser.value(0)?;
    parser.skip_space();

    match parser.peek() {
        None => Ok(literal),
        Some(_) => Err(parser.error_here("unexpected text after the end of the filter")),
    }
}

struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.pos += next.len_utf8();
        Some(next)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
    }

    fn error_here(&self, message: &str) -> DomainError {
        DomainError::at_byte(self.input, self.pos, message)
    }

    fn value(&mut self, depth: usize) -> Result<Literal, DomainError> {
        let at = self.pos;
        let kind = match self.peek() {
            Some('[') => self.sequence(']', depth)?,
            Some('(') => self.sequence(')', depth)?,
            Some(quote @ ('\'' | '"')) => LiteralKind::Str(self.string(quote)?),
            Some(c) if c == '-' || c == '+' || c == '.' || c.is_ascii_digit() => self.number()?,
            Some(c) if c.is_ascii_alphabetic() => self.word()?,
            Some(_) => return Err(self.error_here("expected a value")),
            None => return Err(self.error_here("the filter ends too early")),
        };
        Ok(Literal { at, kind })
    }

    fn sequence(&mut self, close: char, depth: usize) -> Result<LiteralKind, DomainError> {
        if depth >= MAX_DEPTH {
            return Err(self.error_here("the filter is nested too deeply"));
        }
        self.bump();
        let mut items = Vec::new();

        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.bump();
                return Ok(LiteralKind::List(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_space();
            self.separator(close)?;
        }
    }

    fn separator(&mut self, close: char) -> Result<(), DomainError> {
        match self.peek() {
            Some(',') => {
                self.bump();
                Ok(())
            }
            Some(c) if c == close => Ok(()),
            None => Err(self.error_here(&format!("missing '{close}'"))),
            Some(_) => Err(self.error_here(&format!("expected ',' or '{close}'"))),
        }
    }

    fn string(&mut self, quote: char) -> Result<String, DomainError> {
        let start = self.pos;
        self.bump();
        let mut text = String::new();

        loop {
            match self.bump() {
                None => {
                    return Err(DomainError::at_byte(
                        self.input,
                        start,
                        "unterminated string",
                    ))
                }
                Some(c) if c == quote => return Ok(text),
                Some('\\') => text.push(self.escape()?),
                Some(c) => text.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, DomainError> {
        let at = self.pos.saturating_sub(1);
        let escaped = match self.bump() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('0') => '\0',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('/') => '/',
            Some(c @ ('\\' | '\'' | '"')) => c,
            Some('u') => self.unicode_escape(at)?,
            _ => {
                return Err(DomainError::at_byte(
                    self.input,
                    at,
                    "unknown escape sequence",
                ))
            }
        };
        Ok(escaped)
    }

    fn unicode_escape(&mut self, at: usize) -> Result<char, DomainError> {
        let digits = self.input.get(self.pos..self.pos + 4).unwrap_or("");
        let code = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.len() == 4);
        let decoded = code.and_then(char::from_u32);
        match decoded {
            Some(c) if digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(c)
            }
            _ => Err(DomainError::at_byte(self.input, at, "invalid \\u escape")),
        }
    }

    fn number(&mut self) -> Result<LiteralKind, DomainError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || "+-.".contains(c)) {
            self.pos += 1;
        }
        let text = &self.input[start..self.pos];
        number_kind(text).ok_or_else(|| DomainError::at_byte(self.input, start, "invalid number"))
    }

    fn word(&mut self) -> Result<LiteralKind, DomainError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        match &self.input[start..self.pos] {
            "True" | "true" => Ok(LiteralKind::Bool(true)),
            "False" | "false" => Ok(LiteralKind::Bool(false)),
            "None" | "null" => Ok(LiteralKind::Null),
            _ => Err(DomainError::at_byte(
                self.input,
                start,
                "unknown word: only True, False, None (or true, false, null) are allowed",
            )),
        }
    }
}

fn number_kind(text: &str) -> Option<LiteralKind> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let valid = !unsigned.is_empty()
        && unsigned.bytes().any(|b| b.is_ascii_digit())
        && !unsigned.starts_with(['+', '-']);
    if !valid {
        return None;
    }
    if unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok().map(LiteralKind::Int);
    }
    let float = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
    let spelled_out = !unsigned.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E');
    spelled_out.then_some(LiteralKind::Float(float))
}
