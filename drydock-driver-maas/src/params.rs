//! Request parameters: ordered key/value pairs where lists are repeated keys.

/// Parameters of a MAAS request: query string for GET/DELETE, form body for POST/PUT.
///
/// Lists are sent as repeated keys (`id=a&id=b`), never comma-joined; booleans as
/// `true`/`false`.
///
/// ```
/// use drydock_driver_maas::Params;
/// let p = Params::new().with("name", "n1").with_list("parents", [1, 2]).with_bool("force", true);
/// assert_eq!(p.encode(), "name=n1&parents=1&parents=2&force=true");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`.
    pub fn with(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.0.push((key.into(), value.to_string()));
        self
    }

    /// Adds `key=value` when `value` is `Some`.
    pub fn with_opt<V: ToString>(self, key: impl Into<String>, value: Option<V>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// Adds `key=true` or `key=false`.
    pub fn with_bool(self, key: impl Into<String>, value: bool) -> Self {
        self.with(key, if value { "true" } else { "false" })
    }

    /// Adds one `key=value` pair per item.
    pub fn with_list<V: ToString>(
        mut self,
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let key = key.into();
        for v in values {
            self.0.push((key.clone(), v.to_string()));
        }
        self
    }

    /// Appends `key=value` in place.
    pub fn push(&mut self, key: impl Into<String>, value: impl ToString) {
        self.0.push((key.into(), value.to_string()));
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `application/x-www-form-urlencoded` form of the pairs.
    pub fn encode(&self) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            ser.append_pair(k, v);
        }
        ser.finish()
    }
}

impl<K: Into<String>, V: ToString> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.to_string()))
                .collect(),
        )
    }
}
