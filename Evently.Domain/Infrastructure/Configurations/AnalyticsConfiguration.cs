using Evently.Domain.Analytics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Evently.Domain.Infrastructure.Configurations;

internal sealed class DailyBookingRollupConfiguration : IEntityTypeConfiguration<DailyBookingRollup>
{
    public void Configure(EntityTypeBuilder<DailyBookingRollup> rollup)
    {
        rollup.ToTable("analytics_days");
        // A range of days is a range of the primary key.
        rollup.HasKey(r => new { r.Day, r.Shard });
    }
}
