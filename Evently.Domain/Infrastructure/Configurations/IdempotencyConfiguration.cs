using Evently.Domain.Auth;
using Evently.Domain.Idempotency;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    // Binary collation: compared byte for byte, so 'Key-abc' and 'key-ABC' are two keys.
    private const string ExactText = "utf8mb4_bin";

    public void Configure(EntityTypeBuilder<IdempotencyRecord> record)
    {
        record.ToTable("idempotency_records");
        // The primary key is the uniqueness the ledger promises: of two requests with one key, one insert wins.
        record.HasKey(r => new { r.UserId, r.IdempotencyKey });
        record.HasOne<User>().WithMany().HasForeignKey(r => r.UserId);
        record.Property(r => r.IdempotencyKey).HasMaxLength(IdempotencyLedger.MaxKeyLength).UseCollation(ExactText);
        record.Property(r => r.Fingerprint).HasMaxLength(300);
    }
}
