use assay_core::MoneyError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoopError {
    #[error(transparent)]
    Money(#[from] MoneyError),
    #[error("conservation broken: {0} (rule D9)")]
    Conservation(&'static str),
    #[error("a slot needs at least one member to split its income (rule D3)")]
    NoMembers,
}

impl CoopError {
    pub fn code(&self) -> &'static str {
        match self {
            CoopError::Money(error) => error.code(),
            CoopError::Conservation(_) => "conservation_broken",
            CoopError::NoMembers => "no_members",
        }
    }
}
