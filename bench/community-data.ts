/** Facet values of the seeded directory: the server draws profiles from them, the load varies its filters over them. */
export const COUNTRIES = ['Ghana', 'France', 'Brazil', 'India', 'Japan', 'Kenya', 'Mexico', 'Germany', 'Canada', 'Vietnam', 'Spain', 'Nigeria'];
export const PROGRAMS = ['Mathematics', 'Physics', 'Biology', 'History', 'Economics', 'Computer Science', 'Chemistry', 'Literature', 'Music', 'Engineering'];
export const DEPARTMENTS = ['Science', 'Humanities', 'Engineering', 'Arts', 'Business'];
export const INDUSTRIES = ['Software', 'Education', 'Health', 'Finance', 'Energy', 'Media', 'Government', 'Research'];
