using System.Globalization;
using System.Reflection;
using System.Text;

namespace AutoGrad.Tests.PublicApi;

/// <summary>
/// Writes an assembly's public surface as sorted C#-like declarations, one per line: every public type with its
/// base and interfaces, and every public or protected member with its signature, nullability and default values.
/// A change to the surface changes the listing, so the test comparing it with the checked-in copy catches it.
/// </summary>
internal static class ApiListing
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static string For(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeDeclaration(type)).Append('\n');
            foreach (var member in Members(type).Order(StringComparer.Ordinal))
            {
                text.Append("    ").Append(member).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string TypeDeclaration(Type type)
    {
        var kind = type.IsEnum ? "enum" : type.IsValueType ? (type.IsDefined(typeof(System.Runtime.CompilerServices.IsReadOnlyAttribute)) ? "readonly struct" : "struct")
            : type.IsInterface ? "interface" : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class" : type.IsAbstract ? "abstract class" : type.IsSealed ? "sealed class" : "class";
        var bases = new List<string>();
        if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
        {
            bases.Add(Name(b));
        }

        bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return $"{kind} {Name(type)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}";
    }

    private static IEnumerable<string> Members(Type type)
    {
        var nullability = new NullabilityInfoContext();
        foreach (var member in type.GetMembers(Declared))
        {
            // Compiler-made members (a record's <Clone>$) and protected members of sealed types are out of reach.
            if (member.Name.StartsWith('<') || (type.IsSealed && IsProtectedOnly(member)))
            {
                continue;
            }

            switch (member)
            {
                case ConstructorInfo c when Visible(c) && !type.IsAbstract | c.IsFamily | c.IsPublic:
                    yield return $"{Access(c)}{type.Name.Split('`')[0]}({Parameters(c, nullability)})";
                    break;
                case MethodInfo m when Visible(m) && !m.IsSpecialName | m.Name.StartsWith("op_", StringComparison.Ordinal):
                    yield return $"{Access(m)}{Modifiers(m)}{TypeName(m.ReturnParameter, nullability)} {m.Name}{Generics(m)}({Parameters(m, nullability)}){Constraints(m)}";
                    break;
                case PropertyInfo p when Visible(p.GetMethod) || Visible(p.SetMethod):
                    var accessor = p.GetMethod ?? p.SetMethod!;
                    var init = p.SetMethod?.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit") == true;
                    var accessors = (Visible(p.GetMethod) ? "get; " : "") + (Visible(p.SetMethod) ? (init ? "init; " : "set; ") : "");
                    var index = p.GetIndexParameters();
                    var name = index.Length > 0 ? $"this[{string.Join(", ", index.Select(i => $"{Name(i.ParameterType)} {i.Name}"))}]" : p.Name;
                    yield return $"{Access(accessor)}{Modifiers(accessor)}{Nullable(Name(p.PropertyType), p.PropertyType, nullability.Create(p).ReadState)} {name} {{ {accessors}}}";
                    break;
                case FieldInfo f when (f.IsPublic || f.IsFamily) && !f.IsSpecialName:
                    yield return type.IsEnum
                        ? $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture)}"
                        : $"{Access(f)}{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{Name(f.FieldType)} {f.Name}";
                    break;
                case EventInfo e when Visible(e.AddMethod):
                    yield return $"{Access(e.AddMethod!)}event {Name(e.EventHandlerType!)} {e.Name}";
                    break;
            }
        }
    }

    private static bool Visible(MethodBase? method) => method is not null && (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly);

    private static string Access(MethodBase m) => m.IsPublic ? "public " : "protected ";

    private static string Access(FieldInfo f) => f.IsPublic ? "public " : "protected ";

    private static string Modifiers(MethodInfo m) =>
        m.IsStatic ? "static " : m.IsAbstract ? "abstract " : m.IsVirtual && !m.IsFinal && m.GetBaseDefinition() == m ? "virtual " : m.GetBaseDefinition() != m ? "override " : "";

    private static bool IsProtectedOnly(MemberInfo member) => member switch
    {
        MethodBase m => !m.IsPublic,
        PropertyInfo p => !(p.GetMethod?.IsPublic ?? false) && !(p.SetMethod?.IsPublic ?? false),
        FieldInfo f => !f.IsPublic,
        _ => false,
    };

    private static string Generics(MethodInfo m) => m.IsGenericMethodDefinition
        ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">"
        : "";

    private static string Constraints(MethodInfo m)
    {
        if (!m.IsGenericMethodDefinition)
        {
            return "";
        }

        var parts = m.GetGenericArguments()
            .Select(a => (a.Name, Constraints: a.GetGenericParameterConstraints().Select(Name).Order(StringComparer.Ordinal).ToList(), a.GenericParameterAttributes))
            .Where(a => a.Constraints.Count > 0 || a.GenericParameterAttributes != GenericParameterAttributes.None)
            .Select(a => $" where {a.Name} : {string.Join(", ", (a.GenericParameterAttributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint) ? ["struct"] : Array.Empty<string>()).Concat(a.Constraints.Where(c => c != "System.ValueType")))}");
        return string.Concat(parts);
    }

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability) => string.Join(", ", method.GetParameters().Select(p =>
    {
        var prefix = p.IsDefined(typeof(ParamArrayAttribute)) || p.GetCustomAttributes().Any(a => a.GetType().Name == "ParamCollectionAttribute") ? "params "
            : p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : "";
        var text = $"{prefix}{TypeName(p, nullability)} {p.Name}";
        return p.HasDefaultValue ? $"{text} = {Literal(p.DefaultValue)}" : text;
    }));

    private static string TypeName(ParameterInfo p, NullabilityInfoContext nullability)
    {
        var type = p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType;
        var state = p.Member is MethodInfo && p.Position < 0 ? nullability.Create(p).ReadState : nullability.Create(p).WriteState;
        return Nullable(Name(type), type, state);
    }

    private static string Nullable(string name, Type type, NullabilityState state) =>
        !type.IsValueType && state == NullabilityState.Nullable ? name + "?" : name;

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        Enum e => $"{e.GetType().Name}.{e}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (type.IsByRef || type.IsPointer)
        {
            return Name(type.GetElementType()!) + (type.IsPointer ? "*" : "");
        }

        if (System.Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        var declaring = type.DeclaringType;
        if (declaring is { IsGenericTypeDefinition: true } && type.IsConstructedGenericType)
        {
            // A constructed nested type (ReadOnlySpan<int>.Enumerator) reports its open declaring type; close it.
            declaring = declaring.MakeGenericType(type.GetGenericArguments()[..declaring.GetGenericArguments().Length]);
        }

        var name = type.IsNested ? Name(declaring!) + "." + type.Name : (type.Namespace is null ? "" : type.Namespace + ".") + type.Name;
        if (!type.IsGenericType)
        {
            return name;
        }

        var arguments = type.GetGenericArguments();
        var own = type.IsNested ? arguments.Skip(type.DeclaringType!.GetGenericArguments().Length) : arguments;
        return name.Split('`')[0] + (own.Any() ? "<" + string.Join(", ", own.Select(Name)) + ">" : "");
    }
}
