using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Evently.Domain.Infrastructure;

public static class DbUpdateExceptionExtensions
{
    // ER_DUP_ENTRY: a unique index refused the row.
    public static bool IsUniqueViolation(this DbUpdateException exception) =>
        exception.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };

    /// <summary>A CHECK constraint refused the write: ER_CONSTRAINT_FAILED (MariaDB) or ER_CHECK_CONSTRAINT_VIOLATED (MySQL 8).</summary>
    public static bool IsCheckViolation(this MySqlException exception) => exception.Number is 4025 or 3819;
}
