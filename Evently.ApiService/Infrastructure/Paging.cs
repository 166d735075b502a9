using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;

namespace Evently.ApiService.Infrastructure;

// The attributes state the limits that Validate checks, for the OpenAPI document (see OpenApiSchemaRules).
public sealed record PageRequest(
    [property: Description("Page number."), Range(1, int.MaxValue), DefaultValue(1)] [FromQuery(Name = "page")] int? Page,
    [property: Description("Items per page."), Range(1, PageRequest.MaxPageSize), DefaultValue(PageRequest.DefaultPageSize)] [FromQuery(Name = "pageSize")] int? PageSize)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public int PageNumber => Page ?? 1;
    public int Size => PageSize ?? DefaultPageSize;
    public int Skip => (PageNumber - 1) * Size;

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (PageNumber < 1)
        {
            errors["page"] = ["page must be 1 or more."];
        }
        if (Size is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."];
        }
        else if ((long)PageNumber * Size > int.MaxValue)
        {
            errors["page"] = ["page is beyond the last possible page."];
        }
        return errors;
    }
}

public sealed record PageResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount);
