using Evently.Domain.Common;

namespace Evently.Domain.Idempotency;

public static class IdempotencyErrors
{
    public static readonly DomainError KeyReused = new(ErrorKind.Unprocessable, "idempotency-key-reused",
        "This Idempotency-Key was already used for a different request.");
}
