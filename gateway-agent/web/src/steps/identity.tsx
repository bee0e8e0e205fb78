import { Field, OtherIssues, type StepProps } from '../fields.tsx';

export const IDENTITY_PATHS = ['site.id', 'site.name', 'site.timezone', 'box.id'];

export function IdentityStep(props: StepProps) {
  return (
    <div>
      <p>
        Which site this box serves. The box id is the one the bank enrols; change it only before enrolment.
      </p>
      <Field {...props} label="Site id" path="site.id" placeholder="campus-north-canteen" />
      <Field {...props} label="Site name" path="site.name" placeholder="North campus canteen" />
      <Field {...props} label="Time zone" path="site.timezone" placeholder="Asia/Shanghai" />
      <Field {...props} label="Box id" path="box.id" />
      <OtherIssues issues={props.issues} shown={IDENTITY_PATHS} />
    </div>
  );
}
