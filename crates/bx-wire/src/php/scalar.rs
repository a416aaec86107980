//! PHP's scalar conversions (truthiness, `intval`, `floatval`, string casts) applied to JSON
//! values, so handlers read `'Y'`, `1`, `"1"` and `true` exactly as the PHP original would.
//!
//! Every rule here was checked against php-cli 8.2; deviations are marked where they are made.

use serde_json::Value;

/// PHP truthiness: `false`, `0`, `0.0`, `"0"`, `""`, `null` and an empty array are false;
/// everything else, including `"false"`, `"N"` and `"0.0"`, is true.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i != 0,
            (None, Some(u)) => u != 0,
            _ => n.as_f64().is_some_and(|f| f != 0.0),
        },
        Value::String(s) => !(s.is_empty() || s == "0"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// PHP `intval`. Out-of-range values saturate; a non-finite float is 0.
///
/// Deviation: PHP 8.2 wraps out-of-range *floats* modulo 2^64 (`intval(1e20)` is
/// 7766279631452241920); we saturate, which no client can be relying on.
pub fn intval(v: &Value) -> i64 {
    match v {
        Value::Null => 0,
        Value::Bool(b) => i64::from(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i,
            (None, Some(_)) => i64::MAX,
            _ => float_to_int(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => intval_str(s),
        Value::Array(a) => i64::from(!a.is_empty()),
        Value::Object(m) => i64::from(!m.is_empty()),
    }
}

/// PHP `intval` of a string: leading whitespace, then the longest numeric prefix (`"12abc"` → 12,
/// `"abc"` → 0). Like PHP 8 the prefix may be a float (`"1e3"` → 1000, `"1.9"` → 1); integer
/// overflow saturates (`"99999999999999999999"` → `i64::MAX`), an infinite float is 0.
pub fn intval_str(s: &str) -> i64 {
    match numeric_prefix(s) {
        None => 0,
        Some((text, false)) => text.parse::<i64>().unwrap_or(if text.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        }),
        Some((text, true)) => float_to_int(parse_f64(text)),
    }
}

/// PHP `floatval`: numbers as they are, strings by their numeric prefix (`"1e999"` is infinite,
/// as in PHP), `true` → 1, arrays → 0 or 1.
pub fn floatval(v: &Value) -> f64 {
    match v {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => numeric_prefix(s)
            .map(|(text, _)| parse_f64(text))
            .unwrap_or(0.0),
        Value::Array(a) => f64::from(u8::from(!a.is_empty())),
        Value::Object(m) => f64::from(u8::from(!m.is_empty())),
    }
}

/// PHP's string conversion, as used when a value is interpolated into a string: integers in
/// decimal, floats with PHP's 14 significant digits (`1.5` → `1.5`, `2.0` → `2`,
/// `1e15` → `1.0E+15`), `true` → `1`, `false`/`null` → empty, arrays → `Array`.
pub fn to_php_string(v: &Value) -> String {
    match v {
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "1".to_owned(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            // A u64 beyond i64 would have been a float in PHP's json_decode.
            None => php_float_string(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => "Array".to_owned(),
    }
}

fn float_to_int(f: f64) -> i64 {
    if f.is_finite() {
        // `as` truncates toward zero and saturates at the i64 bounds.
        f as i64
    } else {
        0
    }
}

fn parse_f64(text: &str) -> f64 {
    text.parse::<f64>().unwrap_or(0.0)
}

/// The longest prefix PHP reads as a number after leading whitespace, and whether it has a
/// fraction or an exponent. `"1e"` is the integer 1; `"."` and `"- 1"` are not numbers.
fn numeric_prefix(s: &str) -> Option<(&str, bool)> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = s.as_bytes();
    let digits_from = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let sign = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let mut end = digits_from(sign);
    let mut has_digits = end > sign;
    let mut is_float = false;
    if b.get(end) == Some(&b'.') {
        let frac_end = digits_from(end + 1);
        if has_digits || frac_end > end + 1 {
            has_digits = true;
            is_float = true;
            end = frac_end;
        }
    }
    if !has_digits {
        return None;
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let exp_digits = end + 1 + usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        let exp_end = digits_from(exp_digits);
        if exp_end > exp_digits {
            is_float = true;
            end = exp_end;
        }
    }
    Some((&s[..end], is_float))
}

/// A float as PHP prints it with `precision=14` (`zend_gcvt`): 14 significant digits, trailing
/// zeros dropped, exponent form `d.dE+X` when the decimal exponent is below -4 or above 14.
pub(crate) fn php_float_string(f: f64) -> String {
    if f.is_nan() {
        return "NAN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF" } else { "-INF" }.to_owned();
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        out.push('0');
        return out;
    }
    // Rust's fixed-precision exponent formatting rounds correctly, as zend_dtoa mode 2 does.
    let sci = format!("{:.13e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    // zend_gcvt's `decpt`: the value is 0.DIGITS × 10^decpt.
    let decpt = exp + 1;
    if !(-3..=14).contains(&decpt) {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&exp.unsigned_abs().to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(digits);
    } else {
        let int_len = decpt as usize;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness() {
        for v in [
            json!(false),
            json!(0),
            json!(0.0),
            json!(-0.0),
            json!("0"),
            json!(""),
            json!(null),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(&v), "{v}");
        }
        for v in [
            json!(true),
            json!(1),
            json!(-1),
            json!(0.1),
            json!("false"),
            json!("N"),
            json!("0.0"),
            json!(" "),
            json!([0]),
            json!({"a": 0}),
        ] {
            assert!(truthy(&v), "{v}");
        }
    }

    /// Expected values from php-cli 8.2 `intval($s)` / `floatval($s)`.
    #[test]
    fn string_conversions_match_php() {
        let cases: &[(&str, i64, f64)] = &[
            ("12abc", 12, 12.0),
            ("abc", 0, 0.0),
            (" 12", 12, 12.0),
            ("\t\n12", 12, 12.0),
            ("\x0b12", 12, 12.0),
            ("\x0c12", 12, 12.0),
            (" \r12", 12, 12.0),
            ("12 ", 12, 12.0),
            ("+5", 5, 5.0),
            ("-5", -5, -5.0),
            (" -1", -1, -1.0),
            ("- 1", 0, 0.0),
            (".5", 0, 0.5),
            ("1e3", 1000, 1000.0),
            ("1.9e1", 19, 19.0),
            ("1.9", 1, 1.9),
            ("-1.9", -1, -1.9),
            ("-.5e1", -5, -5.0),
            ("1.5e3x", 1500, 1500.0),
            ("1e", 1, 1.0),
            ("1e+", 1, 1.0),
            ("1.", 1, 1.0),
            (".", 0, 0.0),
            ("", 0, 0.0),
            ("0", 0, 0.0),
            ("00012", 12, 12.0),
            ("012", 12, 12.0),
            ("0x1A", 0, 0.0),
            ("0b11", 0, 0.0),
            ("1_000", 1, 1.0),
            ("１２", 0, 0.0),
            ("nan", 0, 0.0),
            ("INF", 0, 0.0),
            ("99999999999999999999", i64::MAX, 1e20),
            ("-99999999999999999999", i64::MIN, -1e20),
            ("9223372036854775807", i64::MAX, 9.223372036854776e18),
            ("9223372036854775808", i64::MAX, 9.223372036854776e18),
            ("-9223372036854775808", i64::MIN, -9.223372036854776e18),
        ];
        for (s, int, float) in cases {
            assert_eq!(intval_str(s), *int, "intval {s:?}");
            assert_eq!(intval(&json!(s)), *int, "intval value {s:?}");
            assert_eq!(floatval(&json!(s)), *float, "floatval {s:?}");
        }
        assert_eq!(intval_str("1e999"), 0);
        assert_eq!(intval_str("-1e999"), 0);
        assert_eq!(floatval(&json!("1e999")), f64::INFINITY);
        assert_eq!(floatval(&json!("-1e999")), f64::NEG_INFINITY);
    }

    #[test]
    fn value_conversions() {
        assert_eq!(intval(&json!(null)), 0);
        assert_eq!(intval(&json!(true)), 1);
        assert_eq!(intval(&json!(false)), 0);
        assert_eq!(intval(&json!(42)), 42);
        assert_eq!(intval(&json!(1.9)), 1);
        assert_eq!(intval(&json!(-1.9)), -1);
        assert_eq!(intval(&json!(1e20)), i64::MAX);
        assert_eq!(intval(&json!(-1e20)), i64::MIN);
        assert_eq!(intval(&json!(u64::MAX)), i64::MAX);
        assert_eq!(intval(&json!([])), 0);
        assert_eq!(intval(&json!(["x"])), 1);
        assert_eq!(intval(&json!({"a": 1})), 1);
        assert_eq!(floatval(&json!(null)), 0.0);
        assert_eq!(floatval(&json!(true)), 1.0);
        assert_eq!(floatval(&json!(3)), 3.0);
        assert_eq!(floatval(&json!(2.5)), 2.5);
        assert_eq!(floatval(&json!([1])), 1.0);
        assert_eq!(floatval(&json!({})), 0.0);
    }

    #[test]
    fn php_strings() {
        assert_eq!(to_php_string(&json!("x y")), "x y");
        assert_eq!(to_php_string(&json!(49)), "49");
        assert_eq!(to_php_string(&json!(-3)), "-3");
        assert_eq!(to_php_string(&json!(true)), "1");
        assert_eq!(to_php_string(&json!(false)), "");
        assert_eq!(to_php_string(&json!(null)), "");
        assert_eq!(to_php_string(&json!([1, 2])), "Array");
        assert_eq!(to_php_string(&json!({"a": 1})), "Array");
        assert_eq!(to_php_string(&json!(u64::MAX)), "1.844674407371E+19");
    }

    /// Expected texts from php-cli 8.2 `(string)$f`.
    #[test]
    fn floats_print_like_php() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (2.0, "2"),
            (0.1 + 0.2, "0.3"),
            (1718292234.554781, "1718292234.5548"),
            (1e14, "1.0E+14"),
            (1e15, "1.0E+15"),
            (123456789012345.0, "1.2345678901234E+14"),
            (12345678901234.0, "12345678901234"),
            (0.0001, "0.0001"),
            (0.00001, "1.0E-5"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1.0 / 3.0, "0.33333333333333"),
            (1e100, "1.0E+100"),
            (-1.5e-10, "-1.5E-10"),
            (1e25, "1.0E+25"),
            (99999999999999.99, "1.0E+14"),
            (0.1, "0.1"),
            (5e-324, "4.9406564584125E-324"),
            (f64::MAX, "1.7976931348623E+308"),
            (123456.7890123456, "123456.78901235"),
            (0.00012345678901234567, "0.00012345678901235"),
            (100.0, "100"),
            (-2.5, "-2.5"),
            (0.5, "0.5"),
            (f64::INFINITY, "INF"),
            (f64::NEG_INFINITY, "-INF"),
            (f64::NAN, "NAN"),
        ];
        for (f, s) in cases {
            assert_eq!(php_float_string(*f), *s, "{f:e}");
        }
        assert_eq!(to_php_string(&json!(1.5)), "1.5");
        assert_eq!(to_php_string(&json!(2.0)), "2");
    }
}
