using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Evently.Domain.Infrastructure;

public static class DbUpdateExceptionExtensions
{
    // ER_DUP_ENTRY: a unique index refused the row.
    public static bool IsUniqueViolation(this DbUpdateException exception) =>
        exception.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };
}
