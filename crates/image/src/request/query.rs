//! Serverless Image Handler v7+'s `QueryParamMapper` (`query-param-mapper.ts`): `?format=`,
//! `fit`, `width`, `height`, `rotate`, `flip`, `flop`, `grayscale`, `greyscale` as edits.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::js;
use crate::Edits;

/// `mapQueryParamsToEdits(queryParameters)`. Other parameters (`signature`, `expires`, ...)
/// make no edits.
///
/// Serverless Image Handler walks the parameters in their order in the URL; a map has them
/// sorted, which only matters when both `grayscale` and `greyscale` are given (here
/// `greyscale`, the later in sort order, wins).
pub(crate) fn map_query_params_to_edits(query: &BTreeMap<String, String>) -> Edits {
    let mut edits = Edits::new();
    for (param, value) in query {
        let (nested, key, mapped) = match param.as_str() {
            "format" => (false, "toFormat", Value::from(value.as_str())),
            "fit" => (true, "fit", Value::from(value.as_str())),
            "width" => (true, "width", zero_string_to_null_int(value)),
            "height" => (true, "height", zero_string_to_null_int(value)),
            "rotate" => (false, "rotate", string_to_null_int(value)),
            "flip" => (false, "flip", string_to_boolean(value)),
            "flop" => (false, "flop", string_to_boolean(value)),
            "grayscale" | "greyscale" => (false, "greyscale", string_to_boolean(value)),
            _ => continue,
        };
        if nested {
            let resize = edits
                .entry("resize".to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(resize) = resize {
                resize.insert(key.to_owned(), mapped);
            }
        } else {
            edits.insert(key.to_owned(), mapped);
        }
    }
    edits
}

fn string_to_boolean(input: &str) -> Value {
    let lower = input.to_lowercase();
    Value::from(!matches!(lower.as_str(), "0" | "false" | ""))
}

fn string_to_null_int(input: &str) -> Value {
    if input.is_empty() {
        Value::Null
    } else {
        js::number(js::parse_int(input))
    }
}

fn zero_string_to_null_int(input: &str) -> Value {
    if input == "0" {
        Value::Null
    } else {
        string_to_null_int(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_key_makes_an_edit_and_no_other_does() {
        for key in super::super::QUERY_PARAM_KEYS {
            let query = BTreeMap::from([(key.to_owned(), "1".to_owned())]);
            assert!(!map_query_params_to_edits(&query).is_empty(), "{key}");
        }
        for key in ["signature", "expires", "Width", "quality"] {
            let query = BTreeMap::from([(key.to_owned(), "1".to_owned())]);
            assert!(map_query_params_to_edits(&query).is_empty(), "{key}");
        }
    }
}
