//! The CEL environment of a Kubernetes ValidatingAdmissionPolicy: CEL's standard library with
//! optional types, the strings and lists extensions (from the `cel` crate), and the Kubernetes
//! libraries written here from their documentation:
//!
//! - lists: `isSorted()`, `sum()`, `min()`, `max()`, `indexOf(x)`, `lastIndexOf(x)`;
//! - regex: `find(re)`, `findAll(re)`, `findAll(re, limit)`;
//! - URLs: `url(s)`, `isURL(s)`, `getScheme()`, `getHost()`, `getHostname()`, `getPort()`,
//!   `getEscapedPath()`, `getQuery()`;
//! - quantities: `quantity(s)`, `isQuantity(s)`, `sign()`, `isInteger()`, `asInteger()`,
//!   `asApproximateFloat()`, `add(q | int)`, `sub(q | int)`, `isGreaterThan(q)`, `isLessThan(q)`,
//!   `compareTo(q)`.
//!
//! Any other function (`ip`, `cidr`, `format.*`, `semver`, `authorizer`) is refused when the
//! policy is loaded, with the expression's location: a policy edgefleet cannot evaluate must not
//! pass silently.

use std::sync::Arc;

use cel::common::types::{DYN_TYPE, LIST_TYPE};
use cel::common::value::CowVal;
use cel::extractors::{Arguments, This};
use cel::objects::Opaque;
use cel::{Context, Env, ExecutionError, FunctionContext, ParseErrors, Program, Value};

type Result<T> = std::result::Result<T, ExecutionError>;

/// Functions this module adds on the context (not as overloads of the environment).
const KUBERNETES_FUNCTIONS: &[&str] = &[
    "isSorted",
    "sum",
    "min",
    "max",
    "find",
    "findAll",
    "url",
    "isURL",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
    "quantity",
    "isQuantity",
    "sign",
    "isInteger",
    "asInteger",
    "asApproximateFloat",
    "add",
    "sub",
    "isGreaterThan",
    "isLessThan",
    "compareTo",
];

/// What the environment provides besides [`KUBERNETES_FUNCTIONS`]: CEL's standard library
/// (with optional types) and the strings and lists extensions, by the names expressions call
/// them with; macros (`has`, `all`, ...) are expanded while compiling but listed too. A test
/// evaluates each of them, so this list cannot claim a function the environment lacks.
const STANDARD_FUNCTIONS: &[&str] = &[
    // Standard library.
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "getFullYear",
    "getMonth",
    "getDayOfYear",
    "getDayOfMonth",
    "getDate",
    "getDayOfWeek",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    // Macros.
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "sortBy",
    // Optional types.
    "optional.of",
    "optional.ofNonZeroValue",
    "optional.none",
    "hasValue",
    "value",
    "or",
    "orValue",
    "optMap",
    "optFlatMap",
    // Strings extension.
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "join",
    "format",
    "strings.quote",
    "reverse",
    // Lists extension.
    "slice",
    "flatten",
    "distinct",
    "sort",
    "lists.range",
];

/// A compiled environment and a root context holding the Kubernetes functions, shared by every
/// evaluation (each adds its variables in an inner scope).
pub struct CelLibrary {
    env: Arc<Env>,
    root: Context<'static, 'static>,
}

impl Default for CelLibrary {
    fn default() -> Self {
        Self::new()
    }
}

impl CelLibrary {
    pub fn new() -> Self {
        let mut env = Env::stdlib();
        // The extensions cannot fail on a fresh environment; a failure would be a bug in the
        // crate's registration, and leaves the functions out (then refused as unsupported).
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        let _ = env.add_member_overload(
            "indexOf",
            "list_indexOf",
            LIST_TYPE,
            vec![DYN_TYPE],
            list_index_of,
        );
        let _ = env.add_member_overload(
            "lastIndexOf",
            "list_lastIndexOf",
            LIST_TYPE,
            vec![DYN_TYPE],
            list_last_index_of,
        );
        let env = Arc::new(env);
        let mut root = Context::with_env(env.clone());
        let _ = root.add_function("isSorted", is_sorted);
        let _ = root.add_function("sum", sum);
        let _ = root.add_function("min", list_min);
        let _ = root.add_function("max", list_max);
        let _ = root.add_function("find", find);
        let _ = root.add_function("findAll", find_all);
        let _ = root.add_function("url", url_of);
        let _ = root.add_function("isURL", is_url);
        let _ = root.add_function("getScheme", |f: &FunctionContext, This(u): This<Value>| {
            url_part(f, &u, |u| Value::from(u.scheme.clone()))
        });
        let _ = root.add_function("getHost", |f: &FunctionContext, This(u): This<Value>| {
            url_part(f, &u, |u| Value::from(u.host.clone()))
        });
        let _ = root.add_function(
            "getHostname",
            |f: &FunctionContext, This(u): This<Value>| {
                url_part(f, &u, |u| Value::from(u.hostname.clone()))
            },
        );
        let _ = root.add_function("getPort", |f: &FunctionContext, This(u): This<Value>| {
            url_part(f, &u, |u| Value::from(u.port.clone()))
        });
        let _ = root.add_function(
            "getEscapedPath",
            |f: &FunctionContext, This(u): This<Value>| {
                url_part(f, &u, |u| Value::from(u.path.clone()))
            },
        );
        let _ = root.add_function("getQuery", |f: &FunctionContext, This(u): This<Value>| {
            url_part(f, &u, |u| {
                let map: std::collections::HashMap<String, Vec<String>> = u
                    .query
                    .iter()
                    .cloned()
                    .fold(Default::default(), |mut m, (k, v)| {
                        m.entry(k).or_default().push(v);
                        m
                    });
                cel::to_value(map).unwrap_or(Value::Null)
            })
        });
        let _ = root.add_function("quantity", quantity_of);
        let _ = root.add_function("isQuantity", |s: Arc<String>| Quantity::parse(&s).is_ok());
        let _ = root.add_function("sign", |f: &FunctionContext, This(q): This<Value>| {
            let q = quantity_arg(f, &q)?;
            Ok::<_, ExecutionError>(Value::Int(q.0.signum() as i64))
        });
        let _ = root.add_function("isInteger", |f: &FunctionContext, This(q): This<Value>| {
            let q = quantity_arg(f, &q)?;
            Ok::<_, ExecutionError>(Value::Bool(q.as_integer().is_some()))
        });
        let _ = root.add_function("asInteger", |f: &FunctionContext, This(q): This<Value>| {
            let q = quantity_arg(f, &q)?;
            q.as_integer()
                .map(Value::Int)
                .ok_or_else(|| f.error("quantity is not an integer, or overflows int64"))
        });
        let _ = root.add_function(
            "asApproximateFloat",
            |f: &FunctionContext, This(q): This<Value>| {
                let q = quantity_arg(f, &q)?;
                Ok::<_, ExecutionError>(Value::Float(q.0 as f64 / NANO as f64))
            },
        );
        let _ = root.add_function(
            "add",
            |f: &FunctionContext, This(q): This<Value>, o: Value| {
                let (a, b) = (quantity_arg(f, &q)?, quantity_or_int(f, &o)?);
                a.0.checked_add(b.0)
                    .map(|n| Quantity(n).into_value())
                    .ok_or_else(|| f.error("quantity overflow"))
            },
        );
        let _ = root.add_function(
            "sub",
            |f: &FunctionContext, This(q): This<Value>, o: Value| {
                let (a, b) = (quantity_arg(f, &q)?, quantity_or_int(f, &o)?);
                a.0.checked_sub(b.0)
                    .map(|n| Quantity(n).into_value())
                    .ok_or_else(|| f.error("quantity overflow"))
            },
        );
        let _ = root.add_function(
            "isGreaterThan",
            |f: &FunctionContext, This(q): This<Value>, o: Value| {
                Ok::<_, ExecutionError>(Value::Bool(
                    quantity_arg(f, &q)?.0 > quantity_arg(f, &o)?.0,
                ))
            },
        );
        let _ = root.add_function(
            "isLessThan",
            |f: &FunctionContext, This(q): This<Value>, o: Value| {
                Ok::<_, ExecutionError>(Value::Bool(
                    quantity_arg(f, &q)?.0 < quantity_arg(f, &o)?.0,
                ))
            },
        );
        let _ = root.add_function(
            "compareTo",
            |f: &FunctionContext, This(q): This<Value>, o: Value| {
                let ord = quantity_arg(f, &q)?.0.cmp(&quantity_arg(f, &o)?.0);
                Ok::<_, ExecutionError>(Value::Int(ord as i64))
            },
        );
        Self { env, root }
    }

    /// Compiles an expression for this environment (macros expanded, optional syntax on).
    pub fn compile(&self, text: &str) -> std::result::Result<Program, ParseErrors> {
        self.env.compile(text)
    }

    /// The root context: functions, no variables.
    pub fn context(&self) -> &Context<'static, 'static> {
        &self.root
    }

    /// The first function (or the variable `authorizer`) a program uses that this environment
    /// does not provide.
    pub fn unsupported(&self, program: &Program) -> Option<String> {
        let refs = program.references();
        if refs.has_variable("authorizer") {
            return Some("authorizer".to_owned());
        }
        let mut functions = refs.functions();
        functions.sort();
        functions
            .into_iter()
            .find(|f| {
                !(f.starts_with(['_', '@', '!'])
                    || STANDARD_FUNCTIONS.contains(f)
                    || KUBERNETES_FUNCTIONS.contains(f))
            })
            .map(str::to_owned)
    }
}

fn list_arg<'a>(f: &FunctionContext, v: &'a Value) -> Result<&'a [Value]> {
    match v {
        Value::List(l) => Ok(l.as_slice()),
        other => Err(f.error(format!("expected a list, got {:?}", other.type_of()))),
    }
}

fn compare(f: &FunctionContext, a: &Value, b: &Value) -> Result<std::cmp::Ordering> {
    if let (Value::Opaque(_), Value::Opaque(_)) = (a, b) {
        return Ok(quantity_arg(f, a)?.0.cmp(&quantity_arg(f, b)?.0));
    }
    a.partial_cmp(b).ok_or_else(|| {
        f.error(format!(
            "cannot compare {:?} and {:?}",
            a.type_of(),
            b.type_of()
        ))
    })
}

/// `[1, 2, 3].isSorted()`.
fn is_sorted(f: &FunctionContext, This(list): This<Value>) -> Result<Value> {
    let items = list_arg(f, &list)?;
    for w in items.windows(2) {
        if compare(f, &w[0], &w[1])? == std::cmp::Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

/// `[1, 2].sum()`: ints, uints, doubles, durations or quantities; `0` for an empty list.
fn sum(f: &FunctionContext, This(list): This<Value>) -> Result<Value> {
    let items = list_arg(f, &list)?;
    let mut iter = items.iter();
    let Some(first) = iter.next() else {
        return Ok(Value::Int(0));
    };
    let mut acc = first.clone();
    for x in iter {
        acc = match (&acc, x) {
            (Value::Int(a), Value::Int(b)) => {
                Value::Int(a.checked_add(*b).ok_or_else(|| f.error("int overflow"))?)
            }
            (Value::UInt(a), Value::UInt(b)) => {
                Value::UInt(a.checked_add(*b).ok_or_else(|| f.error("uint overflow"))?)
            }
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (Value::Duration(a), Value::Duration(b)) => Value::Duration(*a + *b),
            (Value::Opaque(_), Value::Opaque(_)) => {
                Quantity(quantity_arg(f, &acc)?.0 + quantity_arg(f, x)?.0).into_value()
            }
            (a, b) => {
                return Err(f.error(format!(
                    "cannot sum {:?} and {:?}",
                    a.type_of(),
                    b.type_of()
                )));
            }
        };
    }
    Ok(acc)
}

fn extreme(f: &FunctionContext, list: &Value, want: std::cmp::Ordering) -> Result<Value> {
    let items = list_arg(f, list)?;
    let mut iter = items.iter();
    let Some(mut best) = iter.next() else {
        return Err(f.error("called on an empty list"));
    };
    for x in iter {
        if compare(f, x, best)? == want {
            best = x;
        }
    }
    Ok(best.clone())
}

fn list_min(f: &FunctionContext, This(list): This<Value>) -> Result<Value> {
    extreme(f, &list, std::cmp::Ordering::Less)
}

fn list_max(f: &FunctionContext, This(list): This<Value>) -> Result<Value> {
    extreme(f, &list, std::cmp::Ordering::Greater)
}

fn values(args: Vec<CowVal<'_, '_>>) -> Result<Vec<Value>> {
    args.iter().map(|a| Value::try_from(a.as_ref())).collect()
}

fn position<'b, 'v>(args: Vec<CowVal<'b, 'v>>, last: bool) -> Result<CowVal<'b, 'v>> {
    let v = values(args)?;
    let (Some(Value::List(list)), Some(x)) = (v.first(), v.get(1)) else {
        return Err(ExecutionError::function_error(
            "indexOf",
            "expected a list and a value",
        ));
    };
    let found = if last {
        list.iter().rposition(|e| e == x)
    } else {
        list.iter().position(|e| e == x)
    };
    let n = found.map_or(-1, |i| i as i64);
    Ok(CowVal::owned(cel::common::types::CelInt::from(n)))
}

fn list_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>> {
    position(args, false)
}

fn list_last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>> {
    position(args, true)
}

fn regex(f: &FunctionContext, re: &str) -> Result<regex::Regex> {
    regex::Regex::new(re).map_err(|e| f.error(format!("invalid regex `{re}`: {e}")))
}

/// `"abc 123".find('[0-9]+')` → `"123"`; `""` when nothing matches.
fn find(f: &FunctionContext, This(s): This<Arc<String>>, re: Arc<String>) -> Result<Value> {
    let r = regex(f, &re)?;
    Ok(Value::from(
        r.find(&s).map_or("", |m| m.as_str()).to_owned(),
    ))
}

/// `"123 abc 456".findAll('[0-9]+')` → `["123", "456"]`, with an optional limit.
fn find_all(
    f: &FunctionContext,
    This(s): This<Arc<String>>,
    Arguments(args): Arguments,
) -> Result<Value> {
    let (Some(Value::String(re)), limit) = (args.first(), args.get(1)) else {
        return Err(f.error("expected a regex string"));
    };
    let limit = match limit {
        None => usize::MAX,
        Some(Value::Int(n)) if *n < 0 => usize::MAX,
        Some(Value::Int(n)) => *n as usize,
        Some(_) => return Err(f.error("the limit must be an int")),
    };
    let r = regex(f, re)?;
    let found: Vec<Value> = r
        .find_iter(&s)
        .take(limit)
        .map(|m| Value::from(m.as_str().to_owned()))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

/// A URL as Kubernetes' `url()` reads it: an absolute URI or an absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    scheme: String,
    host: String,
    hostname: String,
    port: String,
    path: String,
    query: Vec<(String, String)>,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.URL"
    }
}

impl Url {
    fn parse(s: &str) -> std::result::Result<Self, String> {
        if s.starts_with('/') {
            let base = url::Url::parse("http://example.invalid").map_err(|e| e.to_string())?;
            let u = base.join(s).map_err(|e| e.to_string())?;
            return Ok(Self {
                scheme: String::new(),
                host: String::new(),
                hostname: String::new(),
                port: String::new(),
                path: u.path().to_owned(),
                query: u
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            });
        }
        let u = url::Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
        let hostname = u
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        // Kubernetes keeps the port as written, even the scheme's default.
        let written_port = s
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .and_then(|authority| {
                let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                let after = authority.rsplit_once(']').map_or(authority, |(_, p)| p);
                after.rsplit_once(':').map(|(_, p)| p.to_owned())
            })
            .unwrap_or_default();
        let host_part = s
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h).to_owned())
            .unwrap_or_default();
        Ok(Self {
            scheme: u.scheme().to_owned(),
            host: host_part,
            hostname,
            port: written_port,
            path: u.path().to_owned(),
            query: u
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        })
    }
}

fn url_of(f: &FunctionContext, s: Arc<String>) -> Result<Value> {
    Url::parse(&s)
        .map(|u| Value::Opaque(Arc::new(u)))
        .map_err(|e| f.error(e))
}

fn is_url(s: Arc<String>) -> bool {
    Url::parse(&s).is_ok()
}

fn url_part(f: &FunctionContext, v: &Value, part: impl Fn(&Url) -> Value) -> Result<Value> {
    match v {
        Value::Opaque(o) => o
            .downcast_ref::<Url>()
            .map(part)
            .ok_or_else(|| f.error("expected a URL (url())")),
        other => Err(f.error(format!("expected a URL (url()), got {:?}", other.type_of()))),
    }
}

const NANO: i128 = 1_000_000_000;

/// A Kubernetes resource quantity in nano units (exact for every quantity whose value is a
/// multiple of 10⁻⁹, as CPU and memory quantities are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(pub i128);

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

impl Quantity {
    /// `500m`, `1.5Gi`, `2e3`, `-1k`: sign, number, then a binary (`Ki`..`Ei`), decimal (`n`,
    /// `u`, `m`, `k`, `M`..`E`) or exponent (`e3`, `E-2`) suffix, as Kubernetes accepts them.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a Kubernetes quantity");
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(end);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(bad());
        }
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        // value = digits × 10^(exp10) × 2^(exp2)
        let digits: String = format!("{whole}{frac}");
        let mut exp10: i32 = -(frac.len() as i32);
        let mut exp2: u32 = 0;
        match suffix {
            "" => {}
            "Ki" => exp2 = 10,
            "Mi" => exp2 = 20,
            "Gi" => exp2 = 30,
            "Ti" => exp2 = 40,
            "Pi" => exp2 = 50,
            "Ei" => exp2 = 60,
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            e if e.starts_with(['e', 'E']) => {
                let n: i32 = e[1..].parse().map_err(|_| bad())?;
                exp10 += n;
            }
            _ => return Err(bad()),
        }
        let digits = digits.trim_start_matches('0');
        let mut value: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| bad())?
        };
        // To nano units.
        exp10 += 9;
        if exp10 >= 0 {
            for _ in 0..exp10 {
                value = value.checked_mul(10).ok_or_else(bad)?;
            }
        } else {
            for _ in 0..(-exp10) {
                // Below a nano unit: rounded up, as Kubernetes rounds quantities up.
                value = value / 10 + i128::from(value % 10 != 0);
            }
        }
        value = value.checked_mul(1i128 << exp2).ok_or_else(bad)?;
        Ok(Self(if negative { -value } else { value }))
    }

    fn as_integer(&self) -> Option<i64> {
        (self.0 % NANO == 0)
            .then(|| i64::try_from(self.0 / NANO).ok())
            .flatten()
    }

    fn into_value(self) -> Value {
        Value::Opaque(Arc::new(self))
    }
}

fn quantity_of(f: &FunctionContext, s: Arc<String>) -> Result<Value> {
    Quantity::parse(&s)
        .map(Quantity::into_value)
        .map_err(|e| f.error(e))
}

fn quantity_arg(f: &FunctionContext, v: &Value) -> Result<Quantity> {
    match v {
        Value::Opaque(o) => o
            .downcast_ref::<Quantity>()
            .copied()
            .ok_or_else(|| f.error("expected a quantity (quantity())")),
        other => Err(f.error(format!(
            "expected a quantity (quantity()), got {:?}",
            other.type_of()
        ))),
    }
}

fn quantity_or_int(f: &FunctionContext, v: &Value) -> Result<Quantity> {
    match v {
        Value::Int(n) => Ok(Quantity(i128::from(*n) * NANO)),
        other => quantity_arg(f, other),
    }
}
