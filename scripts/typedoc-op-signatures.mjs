// A TypeDoc plugin for the op registry's functions. An op is `defineOp({ ... })`'s return value,
// typed `(...args: [x: Tensor, dim?: number]) => Tensor`; editors show that as
// `(x: Tensor, dim?: number) => Tensor`, and so do the API docs once this plugin has expanded
// such a rest tuple of labelled members into one parameter per member (optional where the
// forward's parameter is, with its default value where it has one).

import { Converter, ParameterReflection, ReflectionFlag, ReflectionKind } from "typedoc";
import ts from "typescript";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_SIGNATURE, (context, signature, _node, tsSignature) => {
    const [rest, ...others] = signature.parameters ?? [];
    if (rest === undefined || others.length > 0 || !rest.flags.isRest) return;
    const tuple = rest.type;
    if (tuple?.type !== "tuple" || tuple.elements.length === 0) return;
    if (!tuple.elements.every((member) => member.type === "namedTupleMember")) return;
    const restSymbol = tsSignature?.getParameters()[0];
    const tsTuple = restSymbol && context.checker.getTypeOfSymbol(restSymbol);
    const target = tsTuple?.target;
    if (target?.elementFlags === undefined) return;
    signature.parameters = tuple.elements.map((member, i) => {
      const parameter = new ParameterReflection(member.name, ReflectionKind.Parameter, signature);
      parameter.type = member.element;
      const optional = (target.elementFlags[i] & ts.ElementFlags.Optional) !== 0;
      parameter.setFlag(ReflectionFlag.Optional, optional);
      const declaration = target.labeledElementDeclarations?.[i];
      if (declaration && ts.isParameter(declaration) && declaration.initializer) {
        parameter.defaultValue = declaration.initializer.getText();
      }
      context.project.registerReflection(parameter, undefined, undefined);
      return parameter;
    });
    context.project.removeReflection(rest);
  });
}
