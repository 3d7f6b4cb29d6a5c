//! Request problems by field, as Electric reports them in its 400 body:
//! `{"message":"Invalid request","errors":{field:[…]}}`.

use std::collections::BTreeMap;

/// Errors by field, as in `{"message":"Invalid request","errors":{field:[…]}}`.
pub type FieldErrors = BTreeMap<&'static str, Vec<String>>;

/// A one-field error map.
pub fn errors(field: &'static str, message: impl Into<String>) -> FieldErrors {
    FieldErrors::from([(field, vec![message.into()])])
}
