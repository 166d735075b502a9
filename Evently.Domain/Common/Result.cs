namespace Evently.Domain.Common;

public enum ErrorKind
{
    NotFound,
    Unauthorized,
    Conflict,
    Invalid,
    Unprocessable
}

/// <summary>Why a domain operation did not happen. <see cref="Code"/> is stable: clients switch on it.</summary>
/// <remarks><see cref="Extensions"/>: more members of the problem, such as the time a sale opens.</remarks>
public sealed record DomainError(
    ErrorKind Kind, string Code, string Message, IReadOnlyDictionary<string, string[]>? Errors = null,
    IReadOnlyDictionary<string, object>? Extensions = null)
{
    public static DomainError NotFound(string what) => new(ErrorKind.NotFound, "not-found", $"{what} was not found.");
}

/// <summary>Either a value or the <see cref="DomainError"/> that prevented it.</summary>
public readonly record struct Result<T>
{
    private Result(T? value, DomainError? error) => (Value, Error) = (value, error);

    public T? Value { get; }
    public DomainError? Error { get; }
    public bool Succeeded => Error is null;

    public static implicit operator Result<T>(T value) => new(value, null);
    public static implicit operator Result<T>(DomainError error) => new(default, error);
}
