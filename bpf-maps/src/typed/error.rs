//! The one error type of [`crate::typed`].

/// Everything that can go wrong reading BTF or turning map bytes into values and back.
///
/// Every message says what was wrong and what to do about it. Paths are shown as written by the
/// user (`hops[2].addr`); an empty path means the whole key or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeError {
    /// The BTF bytes could not be parsed.
    #[error(
        "the BTF data is malformed: {reason}; its types cannot be used, so read and write the \
         map as raw hex bytes instead, or rebuild the program with `clang -g`"
    )]
    MalformedBtf {
        /// What is wrong with it.
        reason: String,
    },
    /// A type id that the BTF does not hold.
    #[error(
        "type id {id} does not exist in this BTF (it holds ids 1 to {last}); pass the map's \
         btf_key_type_id or btf_value_type_id"
    )]
    UnknownTypeId {
        /// The id asked for.
        id: u32,
        /// The highest id in the BTF.
        last: u32,
    },
    /// A type or map name that the BTF does not hold.
    #[error(
        "this BTF has no {what} named `{name}`; check the spelling (`struct fdb_entry`, `__u32`)"
    )]
    UnknownName {
        /// What was looked for (`type`, `map`).
        what: String,
        /// The name.
        name: String,
    },
    /// A type that has no data layout (void, functions, forward declarations) or that this
    /// module cannot lay out.
    #[error("{what} cannot be decoded: {reason}")]
    Unsupported {
        /// The type, as `type id N (kind name)`.
        what: String,
        /// Why, and what to do.
        reason: String,
    },
    /// Bytes whose length is not the type's size.
    #[error(
        "{c_name} is {expected} bytes, but {got} bytes were given; pass the whole key or value"
    )]
    SizeMismatch {
        /// The type.
        c_name: String,
        /// Its size.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A field name that the struct or union does not have.
    #[error("{} has no field `{name}`; its fields are: {available}", subject(.path, .c_name))]
    UnknownField {
        /// Where the lookup happened.
        path: String,
        /// The name that does not exist.
        name: String,
        /// The struct or union.
        c_name: String,
        /// The names that do exist, comma separated.
        available: String,
    },
    /// A field name used on something that has no fields.
    #[error("{} has no fields; remove `.{name}`", subject(.path, .c_name))]
    NoFields {
        /// The path of the thing without fields.
        path: String,
        /// Its type.
        c_name: String,
        /// The name asked for.
        name: String,
    },
    /// An index used on something that is not an array.
    #[error("{} is not an array; remove `[{index}]`", subject(.path, .c_name))]
    NotAnArray {
        /// The path of the thing.
        path: String,
        /// Its type.
        c_name: String,
        /// The index asked for.
        index: usize,
    },
    /// An array index past the end.
    #[error(
        "index {index} is out of bounds: {} has {len} elements, so indexes run from 0 to {}",
        subject(.path, .c_name),
        .len.saturating_sub(1)
    )]
    IndexOutOfBounds {
        /// The array's path.
        path: String,
        /// The array type.
        c_name: String,
        /// The index asked for.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// A field path that cannot be parsed.
    #[error(
        "bad field path `{path}`: {reason}; write paths like `addr`, `hops[2].addr` or \
         `tag.bytes[0]`"
    )]
    BadPath {
        /// The path text.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A number that does not fit the field.
    #[error("{}: {value} is out of range; it takes {min} to {max}", subject(.path, .c_name))]
    OutOfRange {
        /// The field.
        path: String,
        /// Its type.
        c_name: String,
        /// The value given.
        value: String,
        /// The smallest value it takes.
        min: String,
        /// The largest value it takes.
        max: String,
    },
    /// A JSON value of the wrong kind (an object for an integer, a number for a struct...).
    #[error("{} takes {expected}, not {got}", subject(.path, .c_name))]
    WrongKind {
        /// The field.
        path: String,
        /// Its type.
        c_name: String,
        /// What it takes.
        expected: String,
        /// What was given.
        got: String,
    },
    /// Text that cannot be read as a value of the field (a malformed MAC or IP address, an
    /// unknown enumerator, a string too long for a `char` array...).
    #[error("{}: `{text}` is not {expected}", subject(.path, .c_name))]
    BadValue {
        /// The field.
        path: String,
        /// Its type.
        c_name: String,
        /// The text given.
        text: String,
        /// What it takes, with an example.
        expected: String,
    },
    /// Input text that is neither JSON, nor `field=value` pairs, nor a scalar.
    #[error("cannot read the input for {c_name}: {reason}")]
    BadSyntax {
        /// The type being encoded.
        c_name: String,
        /// What is wrong, and what would work.
        reason: String,
    },
    /// A field that the kernel manages (`struct bpf_spin_lock`, `struct bpf_timer`, ...).
    #[error(
        "{} is managed by the kernel; leave it out (its bytes are kept as they are)",
        subject(.path, .c_name)
    )]
    KernelManaged {
        /// The field.
        path: String,
        /// Its type.
        c_name: String,
    },
    /// Two inputs that write different values into the same bytes.
    #[error(
        "`{first}` and `{second}` give different values to the same bytes (they share memory in \
         a union, or the same field is set twice); set only one of them"
    )]
    Conflict {
        /// The field written first.
        first: String,
        /// The field written second.
        second: String,
    },
    /// Hex text that cannot be read as bytes.
    #[error(
        "bad hex bytes `{text}`: {reason}; write bytes as `0a 00 00 01`, `0x0a000001` or `0a000001`"
    )]
    BadHex {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A filter expression that cannot be parsed or checked.
    #[error(
        "bad filter `{expr}`: {reason}; write FIELD=VALUE (or FIELD!=VALUE, and <, >, <=, >= for \
         integers), for example `value.vlan=10` or `key.mac=02:1a:b0:00:00:01`"
    )]
    BadFilter {
        /// The expression given.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A field that is not integer-like, used where an integer is needed.
    #[error(
        "{} is not an integer; pick one of its integer members, or use the whole value",
        subject(.path, .c_name)
    )]
    NotAnInteger {
        /// The field.
        path: String,
        /// Its type.
        c_name: String,
    },
}

/// How a field is named in messages: `` `hops[2].addr` (__be32) ``, or the type alone for the
/// whole key or value.
fn subject(path: &str, c_name: &str) -> String {
    if path.is_empty() {
        c_name.to_string()
    } else {
        format!("`{path}` ({c_name})")
    }
}
