//! [`Filter`]: `FIELD=VALUE` conditions on decoded keys and values.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

use super::TypeRef;
use super::encode::literal;
use super::error::TypeError;
use super::field::{self, Seg};
use super::readable::parse_mac;

/// Which side of an entry a filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Key,
    Value,
    /// The value first, then the key.
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
        }
    }
}

/// A number a filter compares with.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Reads text as a number: integer literals (`42`, `-1`, `0x2a`) or decimals.
fn number(text: &str) -> Option<Num> {
    if let Some(lit) = literal(text).filter(|l| !l.overflow) {
        let m = i128::try_from(lit.magnitude).ok()?;
        return Some(Num::Int(if lit.negative { -m } else { m }));
    }
    let t = text.trim();
    if t.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return t
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Num::Float);
    }
    None
}

fn json_number(n: &serde_json::Number) -> Option<Num> {
    if let Some(u) = n.as_u64() {
        Some(Num::Int(i128::from(u)))
    } else if let Some(i) = n.as_i64() {
        Some(Num::Int(i128::from(i)))
    } else {
        n.as_f64().map(Num::Float)
    }
}

/// A condition on map entries: `FIELD=VALUE`, `FIELD!=VALUE`, or for integers `FIELD<VALUE`,
/// `FIELD<=VALUE`, `FIELD>VALUE`, `FIELD>=VALUE`.
///
/// `FIELD` is a path into the decoded entry (`vlan`, `hops[2].addr`, `tag.bytes[0]`), prefixed
/// with `key.` or `value.` to pick a side; `key` or `value` alone is the whole key or value.
/// Without a prefix the value is searched first, then the key. Comparison follows what the
/// decoded field holds:
///
/// - numbers compare numerically (`VALUE` may be decimal, negative, `0x` hex or a decimal
///   fraction);
/// - text compares as text, except that MAC addresses compare as MAC addresses (any case,
///   `:` or `-`), IP addresses as addresses (`fd00::1` equals `fd00:0::1`), and hex strings
///   (pointers, 128-bit integers) as numbers; `VALUE` may be quoted JSON (`name="a b"`);
/// - `true`/`false` compare with booleans;
/// - arrays and objects compare with a JSON `VALUE` (`bytes=[1,2,3,4]`).
///
/// An entry that lacks the field matches no filter, not even a `!=` one.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: String,
    side: Side,
    path: Vec<Seg>,
    op: Op,
    text: String,
    json: Option<Value>,
    num: Option<Num>,
}

impl Filter {
    /// Parses a filter expression.
    pub fn parse(expr: &str) -> Result<Filter, TypeError> {
        let bad = |reason: String| TypeError::BadFilter {
            expr: expr.to_string(),
            reason,
        };
        let Some(pos) = expr.find(['=', '!', '<', '>']) else {
            return Err(bad("it has no operator".to_string()));
        };
        let rest = &expr[pos..];
        let (op, len) = if rest.starts_with("!=") {
            (Op::Ne, 2)
        } else if rest.starts_with(">=") {
            (Op::Ge, 2)
        } else if rest.starts_with("<=") {
            (Op::Le, 2)
        } else if rest.starts_with("==") {
            (Op::Eq, 2)
        } else if rest.starts_with('=') {
            (Op::Eq, 1)
        } else if rest.starts_with('<') {
            (Op::Lt, 1)
        } else if rest.starts_with('>') {
            (Op::Gt, 1)
        } else {
            return Err(bad("`!` must be followed by `=`".to_string()));
        };
        let field_text = expr[..pos].trim();
        let value_text = rest[len..].trim();
        if field_text.is_empty() {
            return Err(bad("there is no field before the operator".to_string()));
        }
        let (side, path_text) = if field_text == "key" {
            (Side::Key, "")
        } else if field_text == "value" {
            (Side::Value, "")
        } else if let Some(p) = field_text.strip_prefix("key.") {
            (Side::Key, p)
        } else if let Some(p) = field_text.strip_prefix("value.") {
            (Side::Value, p)
        } else if field_text.starts_with("key[") {
            (Side::Key, &field_text[3..])
        } else if field_text.starts_with("value[") {
            (Side::Value, &field_text[5..])
        } else {
            (Side::Either, field_text)
        };
        let path = if path_text.is_empty() {
            Vec::new()
        } else {
            field::parse_path(path_text).map_err(|e| bad(e.to_string()))?
        };
        let (text, json) = match value_text.as_bytes().first() {
            Some(b'"' | b'[' | b'{') => {
                let v: Value = serde_json::from_str(value_text)
                    .map_err(|e| bad(format!("the value is not valid JSON: {e}")))?;
                match v {
                    Value::String(s) => (s, None),
                    other => (value_text.to_string(), Some(other)),
                }
            }
            _ => (value_text.to_string(), None),
        };
        let num = number(&text);
        if op.ordering() && num.is_none() {
            return Err(bad(format!(
                "`{}` compares numbers, and `{text}` is not one",
                op.text()
            )));
        }
        Ok(Filter {
            expr: expr.trim().to_string(),
            side,
            path,
            op,
            text,
            json,
            num,
        })
    }

    /// Checks that the field exists in the key or value type (`None` when a side has no
    /// type information), so that a misspelt field is an error rather than an empty result.
    pub fn check(&self, key: Option<&TypeRef>, value: Option<&TypeRef>) -> Result<(), TypeError> {
        let candidates: Vec<&TypeRef> = match self.side {
            Side::Key => key.into_iter().collect(),
            Side::Value => value.into_iter().collect(),
            Side::Either => value.into_iter().chain(key).collect(),
        };
        let mut first_err = None;
        for t in &candidates {
            match t.resolve(&self.path) {
                Ok(_) => return Ok(()),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            None => Ok(()),
            Some(e) => Err(TypeError::BadFilter {
                expr: self.expr.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// Whether an entry, given as its decoded key and value, matches.
    pub fn matches(&self, key: &Value, value: &Value) -> bool {
        let found = match self.side {
            Side::Key => lookup(key, &self.path),
            Side::Value => lookup(value, &self.path),
            Side::Either => lookup(value, &self.path).or_else(|| lookup(key, &self.path)),
        };
        match found {
            Some(v) => self.compare(v),
            None => false,
        }
    }

    fn compare(&self, v: &Value) -> bool {
        match v {
            Value::Number(n) => match (json_number(n), self.num) {
                (Some(a), Some(b)) => a.cmp(b).is_some_and(|o| self.op.holds(o)),
                _ => false,
            },
            Value::String(s) => {
                if let (Some(Num::Int(a)), Some(Num::Int(b))) = (literal_int(s), self.num) {
                    return self.op.holds(a.cmp(&b));
                }
                if self.op.ordering() {
                    return false;
                }
                let equal = s == &self.text || same_address(s, &self.text);
                (self.op == Op::Eq) == equal
            }
            Value::Bool(b) => {
                let want = match self.text.to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return false,
                };
                match self.op {
                    Op::Eq => *b == want,
                    Op::Ne => *b != want,
                    _ => false,
                }
            }
            Value::Array(_) | Value::Object(_) => match (&self.json, self.op) {
                (Some(j), Op::Eq) => json_eq(v, j),
                (Some(j), Op::Ne) => !json_eq(v, j),
                _ => false,
            },
            Value::Null => false,
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// Hex strings decode shows for pointers and wide integers, as numbers.
fn literal_int(s: &str) -> Option<Num> {
    let lower = s.trim().to_ascii_lowercase();
    if !lower.starts_with("0x") {
        return None;
    }
    number(&lower)
}

/// MAC or IP addresses that are the same address written differently.
fn same_address(a: &str, b: &str) -> bool {
    if let (Some(x), Some(y)) = (parse_mac(a), parse_mac(b)) {
        return x == y;
    }
    if let (Ok(x), Ok(y)) = (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()) {
        return x == y;
    }
    false
}

/// JSON equality with numbers compared by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (json_number(x), json_number(y)) {
            (Some(p), Some(q)) => p.cmp(q) == Some(Ordering::Equal),
            _ => false,
        },
        (Value::String(x), Value::String(y)) => x == y || same_address(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// Follows a path through decoded JSON.
fn lookup<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Name(n), Value::Object(m)) => m.get(n)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(expr: &str, key: Value, value: Value) -> bool {
        Filter::parse(expr).unwrap().matches(&key, &value)
    }

    #[test]
    fn operators() {
        let v = json!({"vlan": 10, "delta": -3, "name": "eth0", "ok": true, "bytes": [1, 2]});
        let k = json!({"mac": "02:1a:b0:00:00:01", "vlan": 20});
        assert!(m("vlan=10", k.clone(), v.clone()));
        assert!(m("vlan == 0xa", k.clone(), v.clone()));
        assert!(m("key.vlan=20", k.clone(), v.clone()));
        assert!(m("value.vlan!=20", k.clone(), v.clone()));
        assert!(m("delta<0", k.clone(), v.clone()));
        assert!(m("delta>=-3", k.clone(), v.clone()));
        assert!(!m("delta>-3", k.clone(), v.clone()));
        assert!(m("vlan<=10.5", k.clone(), v.clone()));
        assert!(m("name=eth0", k.clone(), v.clone()));
        assert!(m("name=\"eth0\"", k.clone(), v.clone()));
        assert!(m("name!=eth1", k.clone(), v.clone()));
        assert!(m("ok=true", k.clone(), v.clone()));
        assert!(m("bytes=[1,2]", k.clone(), v.clone()));
        assert!(m("bytes[1]=2", k.clone(), v.clone()));
        assert!(m("mac=02:1A:B0:00:00:01", k.clone(), v.clone()));
        assert!(m("key.mac=02-1a-b0-00-00-01", k.clone(), v.clone()));
        assert!(!m("missing=1", k.clone(), v.clone()));
        assert!(!m("missing!=1", k.clone(), v.clone()));
        assert!(m("key=5", json!(5), v.clone()));
        assert!(m("value=\"fd00::1\"", k.clone(), json!("fd00:0:0::1")));
    }

    #[test]
    fn bad_filters() {
        for bad in [
            "vlan", "=1", "vlan!1", "vlan>abc", "a..b=1", "v=[1,", "x<\"a\"",
        ] {
            let e = Filter::parse(bad).unwrap_err();
            assert!(matches!(e, TypeError::BadFilter { .. }), "{bad}: {e}");
        }
    }
}
